// Package eventstore is the port every event store adapter implements: append
// to a stream with an expected revision, read a stream, read and subscribe to
// the global log. The PostgreSQL adapter (eventstore/postgres) is the embedded
// default; the EventStoreDB adapter (eventstore/esdb) is the production one.
// Both pass the same conformance suite (eventstore/conformance).
package eventstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Store is the event store port.
type Store interface {
	// Append writes events to the end of a stream, all or none, if the
	// stream's current revision matches expected. A retry of an append with
	// the same event ids and the same expected revision returns the first
	// result and writes nothing. A mismatch returns a
	// *WrongExpectedRevisionError (errors.Is ErrWrongExpectedRevision).
	// EventStoreDB recognises a retry under Any or StreamExists only while
	// it remembers the ids (a cache of recent appends, emptied by a
	// restart): such a retry may write the events again there. Commands
	// append under exact and no-stream expectations, which it always
	// recognises. See CheckAppend for what every store refuses, an id
	// given twice in one append among it. Otherwise an event
	// id is not unique across the log everywhere: the PostgreSQL store
	// refuses an id stored anywhere (in another stream, or sent again at
	// a later revision), where EventStoreDB writes it. Callers make ids
	// that never collide (random, or derived from an idempotency key, the
	// stream and the place).
	Append(ctx context.Context, stream string, expected ExpectedRevision, events []EventData) (AppendResult, error)

	// ReadStream reads events of one stream. A stream with no events returns
	// ErrStreamNotFound, and so does one whose name starts with "$": such
	// a stream is the store's own (EventStoreDB's users, settings and
	// links), never the application's (see CheckAppend).
	ReadStream(ctx context.Context, stream string, opts ReadStreamOptions) ([]RecordedEvent, error)

	// ReadAll reads up to limit events of the global log, in log order,
	// strictly after the given position. Only application events are
	// returned (never the store's own system events).
	ReadAll(ctx context.Context, after Position, limit int) ([]RecordedEvent, error)

	// Subscribe follows the global log strictly after the given position:
	// it catches up, then goes live. It never skips an event and never
	// delivers one twice. The subscription ends when ctx is done or Close
	// is called.
	Subscribe(ctx context.Context, after Position, filter Filter) (Subscription, error)

	// Close releases the store's resources.
	Close() error
}

// MultiStreamAppender is a store that appends to several streams in one
// transaction. The embedded store is one. EventStoreDB's v4 protocol
// appends to one stream a call, so a caller falls back to one Append a
// stream (and to what it does should it stop between them) where the
// store is not.
type MultiStreamAppender interface {
	// AppendStreams writes every stream's events, each after the events
	// of the streams before it, if every expectation holds, and nothing
	// otherwise: the error is then a *WrongExpectedRevisionError of the
	// first stream whose expectation failed (of the first stream, when an
	// id is already stored in the log). Streams must differ. Unlike
	// Append, a retry is not recognised: it conflicts, and the caller
	// reads the streams to find what was written.
	AppendStreams(ctx context.Context, appends []StreamAppend) ([]AppendResult, error)
}

// StreamAppend is one stream's part of AppendStreams.
type StreamAppend struct {
	Stream   string
	Expected ExpectedRevision
	Events   []EventData
}

// EventData is an event to append. Data and Metadata are JSON documents.
type EventData struct {
	ID       uuid.UUID
	Type     string
	Data     []byte
	Metadata []byte
}

// CheckAppend is what every store refuses before appending: no events,
// a stream whose name starts with "$", an event whose type is empty
// or starts with "$", and one event id given twice (events without an id
// get a fresh one each). EventStoreDB writes a no-stream batch that
// repeats an id and then answers it as a wrong expected version
// (ESDB-PROTOCOL.md §12), which reads as nothing written. EventStoreDB keeps "$" types for its own events,
// which ReadAll and subscriptions leave out, and its subscriptions'
// filter passes no empty type, so either would be appended and never
// read back from the log. It keeps "$" streams for its own too (those of
// "$$name" set the metadata of name, which can truncate or hide it), and
// ReadStream finds none.
func CheckAppend(stream string, events []EventData) error {
	if len(events) == 0 {
		return fmt.Errorf("append to %s: no events", stream)
	}
	if IsSystemStream(stream) {
		return fmt.Errorf("append to %s: $ streams are the store's own", stream)
	}
	seen := make(map[uuid.UUID]bool, len(events))
	for i, e := range events {
		if e.Type == "" || e.Type[0] == '$' {
			return fmt.Errorf("append to %s: event %d has type %q: a type is needed, and $ types are the store's own", stream, i, e.Type)
		}
		if e.ID != uuid.Nil && seen[e.ID] {
			return fmt.Errorf("append to %s: event id %s twice in one append", stream, e.ID)
		}
		seen[e.ID] = true
	}
	return nil
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	ID         uuid.UUID
	Stream     string
	Revision   uint64
	Position   Position
	Type       string
	Data       []byte
	Metadata   []byte
	RecordedAt time.Time
}

// AppendResult tells where the last appended event landed.
type AppendResult struct {
	// NextRevision is the revision of the last event written: the exact
	// revision to expect for the next append.
	NextRevision uint64
	// Position is the global position of the last event written.
	Position Position
}

// Direction of a stream read.
type Direction int

const (
	Forwards Direction = iota
	Backwards
)

// ReadStreamOptions selects a slice of a stream.
type ReadStreamOptions struct {
	Direction Direction
	// From is the first revision returned (inclusive). Ignored when FromEnd.
	From uint64
	// FromEnd starts at the last event (useful with Backwards; forwards,
	// the read is that event alone).
	FromEnd bool
	// Limit is the most events returned; 0 means all.
	Limit int
}

// Filter narrows a subscription. The zero value passes every application
// event.
type Filter struct {
	// TypePrefixes keeps only events whose type starts with one of these.
	TypePrefixes []string
}

// Matches reports whether an event type passes the filter.
func (f Filter) Matches(eventType string) bool {
	if len(f.TypePrefixes) == 0 {
		return true
	}
	for _, p := range f.TypePrefixes {
		if len(eventType) >= len(p) && eventType[:len(p)] == p {
			return true
		}
	}
	return false
}

// Subscription delivers the global log in order.
type Subscription interface {
	// Recv blocks until the next message. It returns the context's error
	// once the subscription's context is done, and ErrSubscriptionClosed
	// after Close.
	Recv() (Message, error)
	Close() error
}

// Message is one item of a subscription: an event, or a checkpoint telling
// that the log was read up to Checkpoint with nothing matching the filter
// (so a consumer can save its progress while nothing matches for a long
// time).
type Message struct {
	Event      *RecordedEvent
	Checkpoint Position
}

// IsSystemStream tells a stream of the store's own: its name starts
// with "$".
func IsSystemStream(stream string) bool { return strings.HasPrefix(stream, "$") }
