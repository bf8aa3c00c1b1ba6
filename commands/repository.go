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
	"github.com/bizcenter/bizcenter/tracing"
)

// aggregate is a write model folded from its stream.
type aggregate interface {
	Apply(event.Event)
}

// loaded is what reading a stream tells besides the state: where to append
// next, and what the next event chains to.
type loaded struct {
	// revision of the last event (nil: the stream has no events).
	revision *uint64
	// position of the last event.
	position eventstore.Position
	// hash of the last event ("" when there is none): the next event's
	// previous hash.
	hash string
	// last is the id of the last event.
	last uuid.UUID
	// mine is what an earlier run of the same command appended (nil
	// without an idempotency key, or when it appended nothing here).
	mine *earlier
}

// noStream is where a stream's first events go.
var noStream loaded

func (l loaded) expected() eventstore.ExpectedRevision { return eventstore.Revision(l.revision) }

// answered is the position to answer with when a command appends nothing:
// that of the last event an earlier run of it appended here, which that
// run answered, else that of the stream's last event.
func (l loaded) answered() eventstore.Position {
	if l.mine != nil {
		return l.mine.position
	}
	return l.position
}

const readPage = 500

// load folds a whole stream into agg, personal fields opened.
func load(ctx context.Context, d Deps, stream string, agg aggregate) (loaded, error) {
	return loadWith(ctx, d, stream, agg, d.opener(ctx))
}

// loadWith folds a whole stream into agg, personal fields opened by open
// (nil: left sealed, for an aggregate read only for what is not personal).
func loadWith(ctx context.Context, d Deps, stream string, agg aggregate, open event.Transform) (loaded, error) {
	var l loaded
	var from uint64
	for {
		page, err := d.Store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: from, Limit: readPage})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return l, nil
		}
		if err != nil {
			return l, fmt.Errorf("load %s: %w", stream, err)
		}
		for _, rec := range page {
			e, meta, err := event.DecodeWith(rec.Type, rec.Data, rec.Metadata, open)
			if err != nil {
				return l, fmt.Errorf("load %s@%d: %w", stream, rec.Revision, err)
			}
			agg.Apply(e)
			r := rec.Revision
			l.revision, l.position, l.hash, l.last = &r, rec.Position, meta.Hash, rec.ID
			if isMine(ctx, rec) {
				if l.mine == nil {
					l.mine = &earlier{}
				}
				l.mine.position, l.mine.events = rec.Position, append(l.mine.events, e)
			}
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

// save appends events, personal fields sealed, after the stream's state
// at (noStream, or what load returned), with the revision read as the
// expectation. Each event's metadata chains to the one before it in the
// stream (PreviousHash) and is sealed with its own Hash; its id derives
// from the idempotency key and its place when the command has one. The
// expectation and the previous hash come from the same read, so an append
// whose previous hash would be stale is a revision conflict, never a
// broken chain.
func save(ctx context.Context, d Deps, stream string, at loaded, by origin, events ...event.Event) (eventstore.AppendResult, error) {
	// The append's span is the parent of whatever its events cause.
	ctx, span := tracing.Start(ctx, "eventstore.append", tracing.Attr("stream", stream))
	defer span.End()
	data, err := encode(ctx, d, stream, at, by, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	res, err := d.Store.Append(ctx, stream, at.expected(), data)
	if err != nil {
		return res, fmt.Errorf("save %s: %w", stream, err)
	}
	return res, nil
}

// write is one stream's part of saveAll.
type write struct {
	stream string
	at     loaded
	events []event.Event
}

// saveAll saves to several streams, as save does each, in one append
// when the store can (eventstore.MultiStreamAppender): all or none. It
// reports false, having done nothing, when the store cannot; the caller
// then saves one stream at a time.
func saveAll(ctx context.Context, d Deps, by origin, writes ...write) ([]eventstore.AppendResult, bool, error) {
	multi, ok := d.Store.(eventstore.MultiStreamAppender)
	if !ok {
		return nil, false, nil
	}
	ctx, span := tracing.Start(ctx, "eventstore.append", tracing.Attr("stream", writes[0].stream))
	defer span.End()
	appends := make([]eventstore.StreamAppend, len(writes))
	for i, w := range writes {
		data, err := encode(ctx, d, w.stream, w.at, by, w.events)
		if err != nil {
			return nil, true, err
		}
		appends[i] = eventstore.StreamAppend{Stream: w.stream, Expected: w.at.expected(), Events: data}
	}
	res, err := multi.AppendStreams(ctx, appends)
	if err != nil {
		return nil, true, fmt.Errorf("save %s and more: %w", writes[0].stream, err)
	}
	return res, true, nil
}

// saveInOrder saves writes in one append where the store can (saveAll),
// else one stream at a time in the order given: the caller orders them
// so that stopping between two leaves a state it can finish. It answers
// the position of the last event written.
func saveInOrder(ctx context.Context, d Deps, by origin, writes ...write) (eventstore.Position, error) {
	res, multi, err := saveAll(ctx, d, by, writes...)
	if multi {
		if err != nil {
			return eventstore.Position{}, err
		}
		return res[len(res)-1].Position, nil
	}
	var last eventstore.AppendResult
	for _, w := range writes {
		if last, err = save(ctx, d, w.stream, w.at, by, w.events...); err != nil {
			return eventstore.Position{}, err
		}
	}
	return last.Position, nil
}

// encode is the stored form of events to append after at (see save).
func encode(ctx context.Context, d Deps, stream string, at loaded, by origin, events []event.Event) ([]eventstore.EventData, error) {
	corr := correlation(ctx)
	traceParent := tracing.TraceParent(ctx)
	data := make([]eventstore.EventData, len(events))
	var next uint64
	if at.revision != nil {
		next = *at.revision + 1
	}
	prev := at.hash
	seal := d.sealer(ctx)
	for i, e := range events {
		id := eventID(ctx, stream, next+uint64(i))
		payload, meta, hash, err := event.EncodeAtWith(e, stream, next+uint64(i), event.Metadata{
			EventID:       id,
			Actor:         by.actor,
			CorrelationID: corr,
			OccurredAt:    by.at,
			PreviousHash:  prev,
			TraceParent:   traceParent,
		}, seal)
		if err != nil {
			return nil, err
		}
		data[i], prev = eventstore.EventData{ID: id, Type: e.EventType(), Data: payload, Metadata: meta}, hash
	}
	return data, nil
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
