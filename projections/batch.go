package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

// Batch is what one feed message carries: the events read in one go, in
// log order, and the position the batch runs through (its last event, or
// a later checkpoint when the log held nothing else).
type Batch struct {
	Records []Record
	Through eventstore.Position
	// After is where the feed read the batch from: the checkpoint its
	// subscription began at, or the previous batch's Through. A consumer
	// whose checkpoint stands before it (moved back since) fails the
	// batch, and the feed follows again from the checkpoint (movedBack).
	// Zero when unknown.
	After eventstore.Position
	// idle: the feed read nothing for a while (Feed.next), and the batch
	// is no batch, never delivered.
	idle bool
}

// Record is one stored event in a batch; Pos is Position as a string.
type Record struct {
	ID         uuid.UUID
	Type       string
	Stream     string
	Revision   uint64
	Position   eventstore.Position
	Pos        string
	Data       json.RawMessage
	Metadata   json.RawMessage
	RecordedAt time.Time

	// ahead is the event decoded as the feed or a build read it (see
	// readAhead); nil when left to the consumer.
	ahead *decoded
}

type decoded struct {
	env event.Envelope
	ok  bool
	err error
}

func newRecord(e *eventstore.RecordedEvent) Record {
	return Record{Data: orNull(e.Data), Metadata: orNull(e.Metadata), ID: e.ID, Type: e.Type, Stream: e.Stream, Revision: e.Revision, Position: e.Position, Pos: e.Position.String(),
		RecordedAt: e.RecordedAt}
}

// orNull keeps an empty document valid JSON for the decoders.
func orNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// batchKey keys the Batch a feed message carries in its context.
type batchKey struct{}

// message is the batch as a feed message. The feed and its handlers share
// a process, so the batch rides in the message's context as it is, rather
// than as JSON to encode and parse again for every handler (while catching
// up, that JSON cost more than the read models' writes).
func (b Batch) message(ctx context.Context) *message.Message {
	msg := message.NewMessage(uuid.NewString(), nil)
	msg.Metadata.Set(metaThrough, b.Through.String())
	msg.SetContext(context.WithValue(ctx, batchKey{}, b))
	return msg
}

// DecodeBatch reads a feed message. Handlers only read the batch: on a
// redelivery they get the same one again.
func DecodeBatch(msg *message.Message) (Batch, error) {
	b, ok := msg.Context().Value(batchKey{}).(Batch)
	if !ok {
		return Batch{}, fmt.Errorf("message %s is not a feed message: it carries no batch", msg.UUID)
	}
	return b, nil
}

// Envelope decodes a record, its personal fields opened by open (see
// Opener; Data itself stays as stored). ok is false for an event type this
// build does not know: it is passed over (and the checkpoint moves past
// it).
func (r Record) Envelope(open event.Transform) (env event.Envelope, ok bool, err error) {
	if r.ahead != nil {
		return r.ahead.env, r.ahead.ok, r.ahead.err
	}
	return r.decode(open)
}

func (r Record) decode(open event.Transform) (env event.Envelope, ok bool, err error) {
	e, meta, err := event.DecodeWith(r.Type, r.Data, r.Metadata, open)
	if errors.Is(err, event.ErrUnknownType) {
		return env, false, nil
	}
	if err != nil {
		return env, false, fmt.Errorf("%s %s@%d: %w", r.Type, r.Stream, r.Revision, err)
	}
	return event.Envelope{Metadata: meta, Stream: r.Stream, Revision: r.Revision, Position: r.Pos, Event: e}, true, nil
}

// Opener opens personal fields with the keys as db sees them now: use one
// for a batch, inside the transaction that applies it.
func Opener(ctx context.Context, db personal.DB) event.Transform {
	return personal.Keys{DB: db}.Opener(ctx)
}

// OpenerFor is an Opener for records that fetches the keys of all their
// sealed people in one query.
func OpenerFor(ctx context.Context, db personal.DB, records []Record) (event.Transform, error) {
	return personal.Keys{DB: db}.OpenerFor(ctx, sealedSubjects(each(records)))
}

// sealedSubjects are the people whose sealed fields records hold, each
// once; records opened ahead need no key.
func sealedSubjects(records iter.Seq[*Record]) []uuid.UUID {
	var subjects []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for r := range records {
		if r.ahead != nil {
			continue
		}
		if id, ok := personal.SealedSubject(r.Type, r.Data); ok && !seen[id] {
			seen[id] = true
			subjects = append(subjects, id)
		}
	}
	return subjects
}

// each yields the records of a slice in place, without copying them.
func each(records []Record) iter.Seq[*Record] {
	return func(yield func(*Record) bool) {
		for i := range records {
			if !yield(&records[i]) {
				return
			}
		}
	}
}
