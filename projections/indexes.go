package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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
// (EnsureOver), which readers read while the engine catches it up, once
// the engine has (see makePendingIndexes), recorded meanwhile in
// projection_pending_indexes.
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

// AddDeclaredIndexes creates in p's active build, if it is of p's
// version, the indexes p's Schema declares with CREATE INDEX IF NOT
// EXISTS (one statement a line: CREATE INDEX IF NOT EXISTS name ON table
// …;) that the build lacks. An index added to a released projector goes
// in that way, its version unchanged: a new version would replay the
// whole log into a new build while the active one stopped advancing,
// holding its read model still for an index. Each is made CONCURRENTLY,
// on a connection of its own, so that the projector's writes and the
// readers go on meanwhile; one instance makes it (the others skip it),
// and one left invalid by an interrupted attempt is made again. A build
// whose deferred indexes are still pending (recorded from the schema it
// was made with) gets it at the first start after they are made.
func AddDeclaredIndexes(ctx context.Context, pool *pgxpool.Pool, p Versioned) error {
	a, err := ActiveBuild(ctx, pool, p.Name())
	if err != nil || a.Version != p.Version() {
		return err
	}
	if pending, err := indexesPending(ctx, pool, p.Name()); err != nil || pending {
		return err
	}
	for _, line := range strings.Split(p.Schema(), "\n") {
		name, table, rest, ok := declaredIndex(line)
		if !ok {
			continue
		}
		ddl := "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + pgx.Identifier{name}.Sanitize() + " ON " + pgx.Identifier{a.Schema, table}.Sanitize() + " " + rest
		if err := addIndex(ctx, pool, a.Schema, name, ddl); err != nil {
			return fmt.Errorf("index %s of %s: %w", name, a.Schema, err)
		}
	}
	return nil
}

// declaredIndex reads a line of a Schema declaring an index for
// AddDeclaredIndexes: CREATE INDEX IF NOT EXISTS name ON table rest;
func declaredIndex(line string) (name, table, rest string, ok bool) {
	line = strings.TrimSpace(line)
	f := strings.Fields(line)
	if len(f) < 8 || strings.Join(f[:5], " ") != "CREATE INDEX IF NOT EXISTS" || f[6] != "ON" || !strings.HasSuffix(line, ";") {
		return "", "", "", false
	}
	return f[5], f[7], strings.Join(f[8:], " "), true
}

// addIndex runs ddl, which creates index name in schema concurrently, on
// a connection it then closes (so that its session lock goes with it).
func addIndex(ctx context.Context, pool *pgxpool.Pool, schema, name, ddl string) error {
	conn, err := ownSession(ctx, pool)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var mine bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('index:' || $1 || '.' || $2, 0))`, schema, name).Scan(&mine); err != nil || !mine {
		return err // another instance makes it
	}
	var valid *bool
	err = conn.QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, schema, name).Scan(&valid)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return err
	case *valid:
		return nil
	default: // an interrupted CREATE INDEX CONCURRENTLY left it unusable
		if _, err := conn.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS `+pgx.Identifier{schema, name}.Sanitize()); err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, ddl)
	return err
}

// createIndexes creates a build's deferred indexes in one transaction.
func createIndexes(ctx context.Context, pool *pgxpool.Pool, schema, indexes string) error {
	if indexes == "" {
		return nil
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return runIndexes(ctx, tx, schema, indexes) })
}

func runIndexes(ctx context.Context, tx pgx.Tx, schema, indexes string) error {
	if err := setSchema(ctx, tx, schema); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, indexes); err != nil {
		return fmt.Errorf("create the indexes of %s: %w", schema, err)
	}
	return nil
}

// pendingIndexesEvery is how often an engine looks whether a first build
// whose indexes are pending has caught up.
var pendingIndexesEvery = time.Second

// makePendingIndexes makes the indexes pending for a first build (see
// EnsureOver) once the engine has caught it up: live, as the monitor
// judges it (at most liveLag events behind), looked at every
// pendingIndexesEvery, off the handlers' way. Any instance may make them
// (the pending row is locked while they are made). It returns once no
// projector of the engine has any pending: only a first build made
// before Run defers them.
func (e *Engine) makePendingIndexes(ctx context.Context) {
	t := time.NewTicker(pendingIndexesEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		waiting := false
		for _, p := range e.deferring {
			pending, err := indexesPending(ctx, e.pool, p.Name())
			if err != nil {
				waiting = true
				continue
			}
			if !pending {
				continue
			}
			waiting = true
			if at, err := LiveCheckpoint(ctx, e.pool, p.Name()); err == nil && e.live(ctx, at) {
				_ = createPendingIndexes(ctx, e.pool, p) // else at the next look
			}
		}
		if !waiting {
			return
		}
	}
}

// live reports whether at most liveLag events of the log lie after at
// (false when the log cannot be read now).
func (e *Engine) live(ctx context.Context, at eventstore.Position) bool {
	next, err := e.feed.store.ReadAll(ctx, at, liveLag+1)
	return err == nil && len(next) <= liveLag
}

// createPendingIndexes creates the indexes pending for p's active build,
// if any. The pending row is locked until the indexes are made, so two
// instances never make them twice.
func createPendingIndexes(ctx context.Context, pool *pgxpool.Pool, p Versioned) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
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
		if err := runIndexes(ctx, tx, schema, ddl); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM projection_pending_indexes WHERE schema_name = $1`, schema)
		return err
	})
}

// PendingIndexes counts the builds whose deferred indexes are still to be
// made (for a benchmark to wait for).
func PendingIndexes(ctx context.Context, db queryRower) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM projection_pending_indexes`).Scan(&n)
	return n, err
}

// indexesPending reports whether the named projector's active build waits
// for deferred indexes.
func indexesPending(ctx context.Context, db queryRower, projector string) (bool, error) {
	var pending bool
	err := db.QueryRow(ctx, `
		SELECT EXISTS (SELECT FROM projection_versions v
		  JOIN projection_pending_indexes i ON i.schema_name = v.active_schema WHERE v.name = $1)`, projector).Scan(&pending)
	return pending, err
}
