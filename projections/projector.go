package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Projector builds one read model from events.
type Projector interface {
	// Name is permanent: it names the read model and its watermill handler.
	Name() string
	// Apply queues the statements that change the read model for one
	// event; events the projector does not use it ignores. The statements
	// of a whole batch run in order, pipelined in one round trip, in the
	// transaction that also advances the checkpoint, with the build's
	// schema first on the search path.
	Apply(q *pgx.Batch, e event.Envelope)
}

// versionWait is how often a handler looks again while the active build
// is of another version than its code (a newer one is being built).
const versionWait = 500 * time.Millisecond

// Handler runs a projector as a watermill handler: one transaction a
// batch, into the active build, skipping what its checkpoint says was
// already applied.
func Handler(pool *pgxpool.Pool, p Versioned) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		ctx := msg.Context()
		b, err := DecodeBatch(msg)
		if err != nil {
			return fmt.Errorf("projector %s: %w", p.Name(), err)
		}
		for {
			err := applyActive(ctx, pool, p, b)
			if !errors.Is(err, errOtherVersion) {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(versionWait):
			}
		}
	}
}

var errOtherVersion = errors.New("the active build is of another version")

// applyActive applies a batch to the active build. The build row is locked
// for share, so a switch (which locks it for update) waits for the batch.
func applyActive(ctx context.Context, pool *pgxpool.Pool, p Versioned, b Batch) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("projector %s: begin: %w", p.Name(), err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after commit
	var a Active
	if err := tx.QueryRow(ctx, `SELECT active_schema, version FROM projection_versions WHERE name = $1 FOR SHARE`, p.Name()).Scan(&a.Schema, &a.Version); err != nil {
		return fmt.Errorf("projector %s: active build: %w", p.Name(), err)
	}
	if a.Version != p.Version() {
		return errOtherVersion
	}
	if err := applyBatch(ctx, tx, p, a.Schema, b.Records, b.Through); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// applyBatch applies records to a build inside tx, advancing the build's
// checkpoint to through; the caller commits.
func applyBatch(ctx context.Context, tx pgx.Tx, p Projector, schema string, records []Record, through eventstore.Position) error {
	if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()+`, public`); err != nil {
		return err
	}
	st, err := beginIn(ctx, tx, schema, through)
	if err != nil {
		return err
	}
	if st.Applied() {
		return nil
	}
	q := &pgx.Batch{}
	for _, r := range records {
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
		if err := tx.SendBatch(ctx, q).Close(); err != nil {
			return fmt.Errorf("projector %s through %s: %w", p.Name(), through, err)
		}
	}
	return st.save(ctx)
}
