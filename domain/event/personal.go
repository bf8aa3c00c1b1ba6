package event

// Personal data: some fields of some events name or reach a person (an
// email, a name). They are stored sealed for that person, the event's
// subject, so that forgetting the person's key makes them unreadable
// without rewriting the log. The domain only says which fields these are;
// the sealing itself is a Transform given to EncodeAtWith and DecodeWith.

// PersonalFields says which top-level JSON fields of an event type hold
// personal data, and which field holds the id of the person they belong to.
type PersonalFields struct {
	Subject string
	Fields  []string
}

var personal = map[string]PersonalFields{}

// RegisterPersonal marks fields of an event type as personal data of the
// person whose id is in the subject field. Call it in init beside Register.
func RegisterPersonal(eventType, subject string, fields ...string) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := personal[eventType]; dup {
		panic("event: personal fields registered twice: " + eventType)
	}
	personal[eventType] = PersonalFields{Subject: subject, Fields: fields}
}

// Personal is what RegisterPersonal recorded for a type (ok false: the type
// carries no personal data).
func Personal(eventType string) (PersonalFields, bool) {
	mu.RLock()
	defer mu.RUnlock()
	p, ok := personal[eventType]
	return p, ok
}

// Transform rewrites an event's payload JSON: sealing its personal fields
// before it is stored (and hashed), or opening them after it is read.
type Transform func(eventType string, data []byte) ([]byte, error)

// EncodeAtWith is EncodeAt with the payload passed through seal before it
// is hashed, so the hash covers the bytes as stored. A nil seal is
// EncodeAt.
func EncodeAtWith(e Event, stream string, revision uint64, meta Metadata, seal Transform) (data, metadata []byte, hash string, err error) {
	data, metadata, err = encode(e, meta, seal, func(data []byte, m *Metadata) {
		m.Hash = Hash(stream, revision, e.EventType(), data, *m)
		hash = m.Hash
	})
	return data, metadata, hash, err
}

// DecodeWith is Decode with the stored payload passed through open first.
// A nil open is Decode.
func DecodeWith(eventType string, data, metadata []byte, open Transform) (Event, Metadata, error) {
	if open != nil {
		if _, ok := Personal(eventType); ok {
			opened, err := open(eventType, data)
			if err != nil {
				var meta Metadata
				return nil, meta, err
			}
			data = opened
		}
	}
	return Decode(eventType, data, metadata)
}
