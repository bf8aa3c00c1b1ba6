package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
)

// A new build of a ReadIndexes projector defers its readers' indexes:
// they are recorded with its tables, one row each, and made once it has
// caught up (a rebuild's before its switch, a first build's when the
// engine has caught it up).

// deferIndexes records the indexes a new build makes once it has caught
// up (see makeIndexes), in the transaction that creates its tables.
func deferIndexes(ctx context.Context, tx pgx.Tx, schema string, indexes []string) error {
	if len(indexes) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO projection_deferred_indexes (schema_name, seq, ddl)
		SELECT $1, n, ddl FROM unnest($2::text[]) WITH ORDINALITY AS u(ddl, n)`, schema, indexes)
	return err
}

// indexBuilders is how many connections make a build's deferred indexes
// at once. Each index is a scan and a sort, CPU-bound in the server; one
// after another, the users' seven took 1.9 s for 200,000 users on two
// cores, of which they kept one busy.
const indexBuilders = 2

// makeIndexes makes the indexes deferred for schema, indexBuilders at
// once, each in a transaction of its own that deletes its row: an index
// made is never made again, and one cut short (a crash, a lost
// connection) is left for the next attempt. Indexes another session is
// making are left to it.
func makeIndexes(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	errs := make([]error, indexBuilders)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { errs[i] = makeEachIndex(ctx, pool, schema) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// makeEachIndex makes deferred indexes of schema one by one, until none
// is left that no other session is making, or one fails.
func makeEachIndex(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	for taken := 0; ; {
		made := false
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var seq int
			var ddl string
			err := tx.QueryRow(ctx, `
				SELECT seq, ddl FROM projection_deferred_indexes WHERE schema_name = $1
				 ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`, schema).Scan(&seq, &ddl)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := setSchema(ctx, tx, schema); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, ddl); err != nil {
				return fmt.Errorf("create an index of %s (%s): %w", schema, ddl, err)
			}
			made = true
			_, err = tx.Exec(ctx, `DELETE FROM projection_deferred_indexes WHERE schema_name = $1 AND seq = $2`, schema, seq)
			return err
		})
		if nameTaken(err) && taken < maxNameTaken {
			// Its builder committed (the collision waited for it):
			// the next try chooses another name.
			taken++
			continue
		}
		if err != nil || !made {
			return err
		}
	}
}

// maxNameTaken bounds how often one builder tries again after an index
// took the name its index was given.
const maxNameTaken = 8

// nameTaken reports whether an index without a name lost the name
// PostgreSQL derived for it to one made at the same time: two sessions
// creating indexes of one table (whose ShareLocks do not conflict) derive
// the same name when neither sees the other's, and the second's entry in
// pg_class then fails its unique index once the first commits.
func nameTaken(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "pg_class_relname_nsp_index"
}

// indexLooks are how often an engine looks whether a first build whose
// indexes are pending has caught up: each time a batch of it commits
// here, but no sooner than spacing after the last look (a catch-up
// commits a batch every few milliseconds), and every so often whatever
// commits (another instance may be running the projector).
type indexLooks struct{ every, spacing time.Duration }

// makePendingIndexes makes the indexes pending for p's first build (see
// EnsureOver) once the engine has caught it up: live, as the monitor
// judges it (at most liveLag events behind), off the handlers' way. Any
// instance may make them (see makeIndexes). It returns once none are
// pending: only a first build made before Run defers them.
func (e *Engine) makePendingIndexes(ctx context.Context, p Versioned) {
	t := time.NewTicker(e.looks.every)
	defer t.Stop()
	for {
		// Taken before the look, so that a batch committed while it looks
		// brings the next one.
		advanced := e.advances.Next(p.Name())
		schema, err := pendingBuild(ctx, e.pool, p.Name())
		if err == nil && schema == "" {
			return
		}
		if at, lerr := LiveCheckpoint(ctx, e.pool, p.Name()); err == nil && lerr == nil && e.live(ctx, at) {
			_ = makeIndexes(ctx, e.pool, schema) // else at the next look
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(e.looks.spacing):
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-advanced:
		}
	}
}

// live reports whether at most liveLag events of the log lie after at
// (false when the log cannot be read now).
func (e *Engine) live(ctx context.Context, at eventstore.Position) bool {
	next, err := e.feed.store.ReadAll(ctx, at, liveLag+1)
	return err == nil && len(next) <= liveLag
}

// PendingIndexes counts the active builds whose deferred indexes are
// still to be made (for a benchmark to wait for); a rebuild's, made before
// its switch, are not counted.
func PendingIndexes(ctx context.Context, db queryRower) (int, error) {
	var n int
	err := db.QueryRow(ctx, `
		SELECT count(DISTINCT i.schema_name) FROM projection_deferred_indexes i
		  JOIN projection_versions v ON v.active_schema = i.schema_name`).Scan(&n)
	return n, err
}

// indexesPending reports whether the named projector's active build waits
// for deferred indexes.
func indexesPending(ctx context.Context, db queryRower, projector string) (bool, error) {
	schema, err := pendingBuild(ctx, db, projector)
	return schema != "", err
}

// pendingBuild is the named projector's active build when it waits for
// deferred indexes, "" when it does not.
func pendingBuild(ctx context.Context, db queryRower, projector string) (string, error) {
	var schema string
	err := db.QueryRow(ctx, `
		SELECT v.active_schema FROM projection_versions v
		 WHERE v.name = $1
		   AND EXISTS (SELECT FROM projection_deferred_indexes i WHERE i.schema_name = v.active_schema)`, projector).Scan(&schema)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return schema, err
}
