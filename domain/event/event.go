// Package event is the envelope of every domain event: its metadata, and the
// registry that encodes and decodes events by (type, schema version).
package event

import (
	"time"

	"github.com/google/uuid"
)

// Event is a domain event. Its type is a permanent, past-tense, dotted name
// ("user.invited"); its JSON is the public contract documented in
// docs/events.md.
type Event interface {
	EventType() string
}

// Metadata travels with every event.
type Metadata struct {
	EventID       uuid.UUID `json:"eventId"`
	SchemaVersion int       `json:"schemaVersion"`
	// Actor is who caused the event: a principal's subject, "user:<id>" for
	// an invitee acting with their token, or "system".
	Actor         string    `json:"actor"`
	CorrelationID string    `json:"correlationId"`
	CausationID   string    `json:"causationId,omitempty"`
	OccurredAt    time.Time `json:"occurredAt"`
	// PreviousHash is the Hash of the event before this one in its stream
	// ("" for the first); Hash seals this event (see Hash in hash.go).
	// Together they chain each stream, so an edited event shows.
	PreviousHash string `json:"previousHash,omitempty"`
	Hash         string `json:"hash,omitempty"`
	// TraceParent is the W3C trace context of the command that appended
	// the event, so that its consumers' spans join the command's trace.
	// It is not sealed by Hash: it says where to look, not what happened.
	TraceParent string `json:"traceparent,omitempty"`
}

// Envelope is a decoded event with where it sits in the store.
type Envelope struct {
	Metadata
	Stream   string
	Revision uint64
	// Position is the store's opaque global position.
	Position string
	Event    Event
}
