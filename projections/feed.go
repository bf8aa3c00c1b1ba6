// Package projections carries the event store's subscription into a
// watermill router and runs the projectors that build the PostgreSQL read
// models. Each projector has a permanent name that is also its checkpoint
// key and its watermill topic; it applies an event and advances its
// checkpoint in one transaction, so restarts and replays never apply an
// event twice.
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Message metadata keys.
const (
	metaType       = "event_type"
	metaStream     = "stream"
	metaRevision   = "revision"
	metaPosition   = "position"
	metaEventMeta  = "event_metadata"
	metaCheckpoint = "checkpoint_only"
)

// Feed is a watermill Subscriber over the event store: subscribing to a
// topic follows the global log from that topic's saved checkpoint. It
// hands over one message at a time and waits for its ack, so a handler
// sees events in log order; a nack redelivers the same event.
type Feed struct {
	store eventstore.Store
	pool  *pgxpool.Pool
	log   *slog.Logger
	// RetryDelay is the pause before redelivering a nacked message.
	RetryDelay time.Duration
}

// NewFeed returns a feed reading checkpoints from pool.
func NewFeed(store eventstore.Store, pool *pgxpool.Pool, log *slog.Logger) *Feed {
	return &Feed{store: store, pool: pool, log: log, RetryDelay: 200 * time.Millisecond}
}

var _ message.Subscriber = (*Feed)(nil)

// Subscribe implements message.Subscriber.
func (f *Feed) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	from, err := LoadCheckpoint(ctx, f.pool, topic)
	if err != nil {
		return nil, err
	}
	sub, err := f.store.Subscribe(ctx, from, eventstore.Filter{})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s from %s: %w", topic, from, err)
	}
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		defer sub.Close()
		for {
			m, err := sub.Recv()
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, eventstore.ErrSubscriptionClosed) {
					f.log.Error("feed subscription ended", "topic", topic, "error", err)
				}
				return
			}
			if !f.deliver(ctx, out, m) {
				return
			}
		}
	}()
	return out, nil
}

// deliver sends a message until it is acked; false when ctx ended.
func (f *Feed) deliver(ctx context.Context, out chan<- *message.Message, m eventstore.Message) bool {
	for {
		msg := toMessage(m)
		msg.SetContext(ctx)
		select {
		case out <- msg:
		case <-ctx.Done():
			return false
		}
		select {
		case <-msg.Acked():
			return true
		case <-msg.Nacked():
		case <-ctx.Done():
			return false
		}
		select {
		case <-time.After(f.RetryDelay):
		case <-ctx.Done():
			return false
		}
	}
}

// Close implements message.Subscriber; subscriptions end with their context.
func (f *Feed) Close() error { return nil }

func toMessage(m eventstore.Message) *message.Message {
	if m.Event == nil {
		msg := message.NewMessage("checkpoint-"+m.Checkpoint.String(), nil)
		msg.Metadata.Set(metaPosition, m.Checkpoint.String())
		msg.Metadata.Set(metaCheckpoint, "true")
		return msg
	}
	e := m.Event
	msg := message.NewMessage(e.ID.String(), e.Data)
	msg.Metadata.Set(metaType, e.Type)
	msg.Metadata.Set(metaStream, e.Stream)
	msg.Metadata.Set(metaRevision, strconv.FormatUint(e.Revision, 10))
	msg.Metadata.Set(metaPosition, e.Position.String())
	msg.Metadata.Set(metaEventMeta, string(e.Metadata))
	return msg
}
