package event

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"time"
)

// hashVersion names the encoding below; a change to it is a new name.
const hashVersion = "bizcenter.event-hash.v1"

// Hash is the tamper-evidence hash of one stored event: hex SHA-256 over a
// canonical encoding of where the event sits (stream, revision), what it is
// (type, schema version, the payload's JSON bytes exactly as stored) and
// its metadata other than Hash itself (event id, actor, correlation id,
// causation id, occurred-at, previous hash). Each field is written as its
// length (8 bytes, big-endian) followed by its bytes, so no two different
// events encode alike; numbers are decimal, the event id is its canonical
// UUID form, and occurredAt is RFC 3339 with nanoseconds in UTC.
func Hash(stream string, revision uint64, eventType string, data []byte, meta Metadata) string {
	h := sha256.New()
	var n [8]byte
	field := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, s := range []string{
		hashVersion,
		stream,
		strconv.FormatUint(revision, 10),
		eventType,
		strconv.Itoa(meta.SchemaVersion),
	} {
		field([]byte(s))
	}
	field(data)
	for _, s := range []string{
		meta.EventID.String(),
		meta.Actor,
		meta.CorrelationID,
		meta.CausationID,
		meta.OccurredAt.UTC().Format(time.RFC3339Nano),
		meta.PreviousHash,
	} {
		field([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// EncodeAt encodes an event for the given place in its stream and seals
// it: the metadata carries meta.PreviousHash (the hash of the event before,
// "" for the first) and the event's own Hash, which it also returns for
// the next event of the chain.
func EncodeAt(e Event, stream string, revision uint64, meta Metadata) (data, metadata []byte, hash string, err error) {
	return EncodeAtWith(e, stream, revision, meta, nil)
}
