package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

// Batch is the payload of one feed message: the events read in one go,
// in log order, and the position the batch runs through (its last event,
// or a later checkpoint when the log held nothing else).
type Batch struct {
	Records []Record            `json:"records"`
	Through eventstore.Position `json:"-"`
	through string
}

// Record is one stored event in a batch.
type Record struct {
	ID         uuid.UUID           `json:"id"`
	Type       string              `json:"type"`
	Stream     string              `json:"stream"`
	Revision   uint64              `json:"revision"`
	Position   eventstore.Position `json:"-"`
	Pos        string              `json:"position"`
	Data       json.RawMessage     `json:"data"`
	Metadata   json.RawMessage     `json:"metadata"`
	RecordedAt time.Time           `json:"recordedAt"`
}

type wire struct {
	Records []Record `json:"records"`
	Through string   `json:"through"`
}

func newRecord(e *eventstore.RecordedEvent) Record {
	return Record{Data: orNull(e.Data), Metadata: orNull(e.Metadata), ID: e.ID, Type: e.Type, Stream: e.Stream, Revision: e.Revision, Position: e.Position, Pos: e.Position.String(),
		RecordedAt: e.RecordedAt}
}

// orNull keeps an empty document valid JSON on the wire.
func orNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func (b Batch) message() (*message.Message, error) {
	payload, err := json.Marshal(wire{Records: b.Records, Through: b.Through.String()})
	if err != nil {
		return nil, err
	}
	msg := message.NewMessage(uuid.NewString(), payload)
	msg.Metadata.Set(metaThrough, b.Through.String())
	return msg, nil
}

// DecodeBatch reads a feed message.
func DecodeBatch(msg *message.Message) (Batch, error) {
	var w wire
	if err := json.Unmarshal(msg.Payload, &w); err != nil {
		return Batch{}, fmt.Errorf("feed message: %w", err)
	}
	through, err := eventstore.ParsePosition(w.Through)
	if err != nil {
		return Batch{}, err
	}
	for i := range w.Records {
		if w.Records[i].Position, err = eventstore.ParsePosition(w.Records[i].Pos); err != nil {
			return Batch{}, err
		}
	}
	return Batch{Records: w.Records, Through: through}, nil
}

// Envelope decodes a record, its personal fields opened by open (see
// Opener; Data itself stays as stored). ok is false for an event type this
// build does not know: it is passed over (and the checkpoint moves past
// it).
func (r Record) Envelope(open event.Transform) (env event.Envelope, ok bool, err error) {
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
