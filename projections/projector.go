package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Projector builds one read model from events.
type Projector interface {
	// Name is permanent: it keys the checkpoint, so a rename re-applies
	// the whole log.
	Name() string
	// Apply changes the read model for one event inside tx; events the
	// projector does not use it ignores.
	Apply(ctx context.Context, tx pgx.Tx, e event.Envelope) error
}

// Envelope decodes a feed message. ok is false for a checkpoint-only
// message or an event type this build does not know (both only advance
// the checkpoint).
func Envelope(msg *message.Message) (env event.Envelope, pos eventstore.Position, ok bool, err error) {
	pos, err = eventstore.ParsePosition(msg.Metadata.Get(metaPosition))
	if err != nil {
		return env, pos, false, err
	}
	if msg.Metadata.Get(metaCheckpoint) != "" {
		return env, pos, false, nil
	}
	e, meta, err := event.Decode(msg.Metadata.Get(metaType), msg.Payload, []byte(msg.Metadata.Get(metaEventMeta)))
	if errors.Is(err, event.ErrUnknownType) {
		return env, pos, false, nil
	}
	if err != nil {
		return env, pos, false, err
	}
	rev, _ := strconv.ParseUint(msg.Metadata.Get(metaRevision), 10, 64)
	return event.Envelope{
		Metadata: meta,
		Stream:   msg.Metadata.Get(metaStream),
		Revision: rev,
		Position: pos.String(),
		Event:    e,
	}, pos, true, nil
}

// Handler runs a projector as a watermill handler: apply and checkpoint in
// one transaction, skipping what was already applied.
func Handler(pool *pgxpool.Pool, p Projector) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		ctx := msg.Context()
		env, pos, ok, err := Envelope(msg)
		if err != nil {
			return fmt.Errorf("projector %s: %w", p.Name(), err)
		}
		st, err := Begin(ctx, pool, p.Name(), pos)
		if err != nil {
			return err
		}
		if ok && !st.Applied() {
			if err := p.Apply(ctx, st.Tx(), env); err != nil {
				st.Rollback(ctx)
				return fmt.Errorf("projector %s: %s %s@%d: %w", p.Name(), env.Event.EventType(), env.Stream, env.Revision, err)
			}
		}
		return st.Commit(ctx)
	}
}
