package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// ReadIndexes is a Versioned projector whose plain secondary indexes
// (CREATE INDEX, one statement a line in its Schema) serve readers only:
// its writes find rows by primary key or unique constraint. A new build
// then creates those indexes once, when it has caught up, instead of
// keeping them row by row from the start of the log: for the users read
// model they were a third of a cold pass's time. A rebuild creates them
// before its switch; a first build made over a log that holds events
// (EnsureOver), which readers read while the engine catches it up, when
// the engine finds no event after a batch (see indexesWhenCaughtUp),
// recorded meanwhile in projection_pending_indexes.
type ReadIndexes interface {
	Versioned
	IndexesServeReadsOnly()
}

// indexesApart splits p's Schema into the statements a new build starts
// with and the indexes it may create once it has caught up ("" when p is
// not ReadIndexes).
func indexesApart(p Versioned) (tables, indexes string) {
	if _, ok := p.(ReadIndexes); !ok {
		return p.Schema(), ""
	}
	var keep, later []string
	inBody := false // inside a $$-quoted function body
	for _, line := range strings.Split(p.Schema(), "\n") {
		s := strings.TrimSpace(line)
		if !inBody && strings.HasPrefix(s, "CREATE INDEX ") && strings.HasSuffix(s, ";") {
			later = append(later, s)
			continue
		}
		if strings.Count(line, "$$")%2 == 1 {
			inBody = !inBody
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n"), strings.Join(later, "\n")
}

// createIndexes creates a build's deferred indexes in one transaction.
func createIndexes(ctx context.Context, pool *pgxpool.Pool, schema, indexes string) error {
	if indexes == "" {
		return nil
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()+`, public`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, indexes); err != nil {
			return fmt.Errorf("create the indexes of %s: %w", schema, err)
		}
		return nil
	})
}

// indexesWhenCaughtUp runs h, a projector's handler, and once it has
// caught the build up creates the indexes its first build deferred, if
// any are pending; then it looks no more. Caught up: after a batch that
// was not full (the feed had no more ready), less than a batch lies ahead
// in the log (under steady appends a caught-up projector always has a few
// events ahead of it); after a full one, nothing does (one event read a
// batch while catching up). An instance stopped while making them, the
// log idle since, leaves no batch to come: the engine's periodic look
// (makePendingIndexes) covers that. CREATE INDEX lets readers read
// meanwhile; the projector's next batch waits for it (seconds, once).
func indexesWhenCaughtUp(pool *pgxpool.Pool, feed *Feed, p Versioned, h message.NoPublishHandlerFunc) message.NoPublishHandlerFunc {
	done := false
	return func(msg *message.Message) error {
		if err := h(msg); err != nil || done {
			return err
		}
		b, err := DecodeBatch(msg)
		if err != nil {
			return nil
		}
		ctx := msg.Context()
		if len(b.Records) < feed.BatchSize && !nearHead(ctx, feed, b.Through) {
			return nil // after a later batch
		}
		if len(b.Records) >= feed.BatchSize {
			if next, err := feed.store.ReadAll(ctx, b.Through, 1); err != nil || len(next) > 0 {
				return nil
			}
		}
		done, err = createPendingIndexes(ctx, pool, p)
		if err != nil {
			return fmt.Errorf("projector %s: %w", p.Name(), err)
		}
		return nil
	}
}

// createPendingIndexes creates the indexes pending for p's active build,
// if any, and reports whether none are left. The pending row is locked
// until the indexes are made, so two instances never make them twice.
func createPendingIndexes(ctx context.Context, pool *pgxpool.Pool, p Versioned) (bool, error) {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var schema, ddl string
		err := tx.QueryRow(ctx, `
			SELECT i.schema_name, i.ddl FROM projection_versions v
			  JOIN projection_pending_indexes i ON i.schema_name = v.active_schema
			 WHERE v.name = $1
			   FOR UPDATE OF i`, p.Name()).Scan(&schema, &ddl)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()+`, public`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("create the indexes of %s: %w", schema, err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM projection_pending_indexes WHERE schema_name = $1`, schema)
		return err
	})
	return err == nil, err
}

// pendingIndexesEvery is how often an engine looks for a caught-up first
// build whose indexes are still pending.
var pendingIndexesEvery = 5 * time.Second

// makePendingIndexes makes, every pendingIndexesEvery, the indexes still
// pending for a first build that is caught up with the log. The handler
// makes them after a batch; but an instance stopped while making them,
// the log idle since, leaves no batch to come. Any instance may make
// them (the pending row is locked while they are made).
func (e *Engine) makePendingIndexes(ctx context.Context) {
	t := time.NewTicker(pendingIndexesEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, p := range e.deferring {
			var pending bool
			if err := e.pool.QueryRow(ctx, `
				SELECT EXISTS (SELECT FROM projection_versions v
				  JOIN projection_pending_indexes i ON i.schema_name = v.active_schema WHERE v.name = $1)`, p.Name()).Scan(&pending); err != nil || !pending {
				continue
			}
			if at, err := LiveCheckpoint(ctx, e.pool, p.Name()); err == nil && nearHead(ctx, e.feed, at) {
				_, _ = createPendingIndexes(ctx, e.pool, p) // else at the next look, or after a batch
			}
		}
	}
}

// nearHead reports whether less than a batch of the feed's lies in the
// log after at (false when the log cannot be read now).
func nearHead(ctx context.Context, feed *Feed, at eventstore.Position) bool {
	next, err := feed.store.ReadAll(ctx, at, feed.BatchSize)
	return err == nil && len(next) < feed.BatchSize
}

// PendingIndexes counts the builds whose deferred indexes are still to be
// made (for a benchmark to wait for).
func PendingIndexes(ctx context.Context, db queryRower) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM projection_pending_indexes`).Scan(&n)
	return n, err
}
