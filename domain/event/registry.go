package event

import (
	"fmt"
	"reflect"
	"sync"

	// Decoding was most of what a projector catching up spent, and
	// encoding a fifth of what an invitation did. This package reads and
	// writes what encoding/json does (decode_test.go) three to four times
	// as fast.
	"github.com/segmentio/encoding/json"
)

// Upcaster turns the JSON of schema version N-1 into version N.
type Upcaster func(old []byte) ([]byte, error)

type entry struct {
	version   int
	typ       reflect.Type
	upcasters map[int]Upcaster // keyed by the version they produce
}

var (
	mu       sync.RWMutex
	registry = map[string]*entry{}
)

// Register makes an event type known at its current schema version. Each
// aggregate registers its events in init; registering a type twice panics.
func Register[E Event](version int) {
	var zero E
	name := zero.EventType()
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("event: type registered twice: " + name)
	}
	registry[name] = &entry{version: version, typ: reflect.TypeFor[E](), upcasters: map[int]Upcaster{}}
}

// RegisterUpcaster adds the step that produces version `to` of a type.
func RegisterUpcaster(eventType string, to int, up Upcaster) {
	mu.Lock()
	defer mu.Unlock()
	registry[eventType].upcasters[to] = up
}

// Version is the current schema version of a type (0 if unknown).
func Version(eventType string) int {
	mu.RLock()
	defer mu.RUnlock()
	if e, ok := registry[eventType]; ok {
		return e.version
	}
	return 0
}

// Types lists every registered type.
func Types() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for t := range registry {
		out = append(out, t)
	}
	return out
}

// Zero is the zero value of a registered type (false if it is unknown).
func Zero(eventType string) (Event, bool) {
	mu.RLock()
	ent, ok := registry[eventType]
	mu.RUnlock()
	if !ok {
		return nil, false
	}
	return reflect.Zero(ent.typ).Interface().(Event), true
}

// Encode returns the JSON of an event and its metadata, stamping the
// schema version.
func Encode(e Event, meta Metadata) (data, metadata []byte, err error) {
	return encode(e, meta, nil, nil)
}

// encode stamps the schema version, marshals the payload, passes it
// through transform (when the type has personal fields), lets seal
// complete the metadata from the payload's bytes as stored, and marshals
// the metadata.
func encode(e Event, meta Metadata, transform Transform, seal func(data []byte, meta *Metadata)) (data, metadata []byte, err error) {
	meta.SchemaVersion = Version(e.EventType())
	if meta.SchemaVersion == 0 {
		return nil, nil, fmt.Errorf("encode %s: type not registered", e.EventType())
	}
	if data, err = json.Marshal(e); err != nil {
		return nil, nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	if _, ok := Personal(e.EventType()); ok && transform != nil {
		if data, err = transform(e.EventType(), data); err != nil {
			return nil, nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
		}
	}
	if seal != nil {
		seal(data, &meta)
	}
	if metadata, err = json.Marshal(meta); err != nil {
		return nil, nil, fmt.Errorf("encode %s metadata: %w", e.EventType(), err)
	}
	return data, metadata, nil
}

// Decode reads an event of a registered type, upcasting older versions.
func Decode(eventType string, data, metadata []byte) (Event, Metadata, error) {
	var meta Metadata
	if err := json.Unmarshal(metadata, &meta); err != nil {
		return nil, meta, fmt.Errorf("decode %s metadata: %w", eventType, err)
	}
	mu.RLock()
	ent, ok := registry[eventType]
	mu.RUnlock()
	if !ok {
		return nil, meta, fmt.Errorf("decode %s: %w", eventType, ErrUnknownType)
	}
	if meta.SchemaVersion > ent.version {
		return nil, meta, fmt.Errorf("decode %s: schema version %d is newer than %d", eventType, meta.SchemaVersion, ent.version)
	}
	for v := max(meta.SchemaVersion, 1) + 1; v <= ent.version; v++ {
		up, ok := ent.upcasters[v]
		if !ok {
			return nil, meta, fmt.Errorf("decode %s: no upcaster to version %d", eventType, v)
		}
		var err error
		if data, err = up(data); err != nil {
			return nil, meta, fmt.Errorf("decode %s: upcast to %d: %w", eventType, v, err)
		}
	}
	ptr := reflect.New(ent.typ)
	if err := json.Unmarshal(data, ptr.Interface()); err != nil {
		return nil, meta, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return ptr.Elem().Interface().(Event), meta, nil
}

// ErrUnknownType: no event of that type is registered.
var ErrUnknownType = fmt.Errorf("unknown event type")
