package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

// aggregate is a write model folded from its stream.
type aggregate interface {
	Apply(event.Event)
}

// loaded is what reading a stream tells besides the state.
type loaded struct {
	// revision of the last event (nil: the stream has no events).
	revision *uint64
	// position of the last event.
	position eventstore.Position
}

func (l loaded) expected() eventstore.ExpectedRevision { return eventstore.Revision(l.revision) }

const readPage = 500

// load folds a whole stream into agg.
func load(ctx context.Context, store eventstore.Store, stream string, agg aggregate) (loaded, error) {
	var l loaded
	var from uint64
	for {
		page, err := store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: from, Limit: readPage})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return l, nil
		}
		if err != nil {
			return l, fmt.Errorf("load %s: %w", stream, err)
		}
		for _, rec := range page {
			e, _, err := event.Decode(rec.Type, rec.Data, rec.Metadata)
			if err != nil {
				return l, fmt.Errorf("load %s@%d: %w", stream, rec.Revision, err)
			}
			agg.Apply(e)
			r := rec.Revision
			l.revision, l.position = &r, rec.Position
		}
		if len(page) < readPage {
			return l, nil
		}
		from = *l.revision + 1
	}
}

// origin is who causes events and when.
type origin struct {
	actor string
	at    time.Time
}

// save appends events with their metadata.
func save(ctx context.Context, store eventstore.Store, stream string, expected eventstore.ExpectedRevision, by origin, events ...event.Event) (eventstore.AppendResult, error) {
	corr := correlation(ctx)
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		id := uuid.New()
		payload, meta, err := event.Encode(e, event.Metadata{
			EventID:       id,
			Actor:         by.actor,
			CorrelationID: corr,
			OccurredAt:    by.at,
		})
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		data[i] = eventstore.EventData{ID: id, Type: e.EventType(), Data: payload, Metadata: meta}
	}
	res, err := store.Append(ctx, stream, expected, data)
	if err != nil {
		return res, fmt.Errorf("save %s: %w", stream, err)
	}
	return res, nil
}

// retried runs a load-decide-append function again when a concurrent
// writer moved a stream it read; after a few tries the conflict stands.
func retried[R any](ctx context.Context, f func() (R, error)) (R, error) {
	const attempts = 4
	var r R
	var err error
	for range attempts {
		r, err = f()
		if !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
			return r, err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return r, fmt.Errorf("%w: %w", domain.ErrConflict, err)
}
