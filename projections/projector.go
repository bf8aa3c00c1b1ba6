package projections

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/event"
)

// Projector builds one read model from events.
type Projector interface {
	// Name is permanent: it keys the checkpoint, so a rename re-applies
	// the whole log.
	Name() string
	// Apply queues the statements that change the read model for one
	// event; events the projector does not use it ignores. The statements
	// of a whole batch run in order, pipelined in one round trip, in the
	// transaction that also advances the checkpoint.
	Apply(q *pgx.Batch, e event.Envelope)
}

// Handler runs a projector as a watermill handler: one transaction a
// batch, skipping what the checkpoint says was already applied.
func Handler(pool *pgxpool.Pool, p Projector) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		ctx := msg.Context()
		b, err := DecodeBatch(msg)
		if err != nil {
			return fmt.Errorf("projector %s: %w", p.Name(), err)
		}
		st, err := Begin(ctx, pool, p.Name(), b.Through)
		if err != nil {
			return err
		}
		defer st.Rollback(ctx)
		if st.Applied() {
			return nil
		}
		q := &pgx.Batch{}
		for _, r := range b.Records {
			if !st.from.Less(r.Position) {
				continue
			}
			env, ok, err := r.Envelope()
			if err != nil {
				return fmt.Errorf("projector %s: %w", p.Name(), err)
			}
			if ok {
				p.Apply(q, env)
			}
		}
		if q.Len() > 0 {
			if err := st.tx.SendBatch(ctx, q).Close(); err != nil {
				return fmt.Errorf("projector %s through %s: %w", p.Name(), b.Through, err)
			}
		}
		return st.Commit(ctx)
	}
}
