package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
// projection_deferred_indexes (see makeIndexes).
type ReadIndexes interface {
	Versioned
	IndexesServeReadsOnly()
}

// indexesApart splits p's Schema into the statements a new build starts
// with and the indexes it may create once it has caught up (none when p
// is not ReadIndexes), in the order they are best made (see
// slowestFirst).
func indexesApart(p Versioned) (tables string, indexes []string) {
	if _, ok := p.(ReadIndexes); !ok {
		return p.Schema(), nil
	}
	var keep []string
	inBody := false // inside a $$-quoted function body
	for _, line := range strings.Split(p.Schema(), "\n") {
		s := strings.TrimSpace(line)
		if !inBody && strings.HasPrefix(s, "CREATE INDEX ") && strings.HasSuffix(s, ";") {
			indexes = append(indexes, s)
			continue
		}
		if strings.Count(line, "$$")%2 == 1 {
			inBody = !inBody
		}
		keep = append(keep, line)
	}
	slowestFirst(indexes)
	return strings.Join(keep, "\n"), indexes
}

// slowestFirst puts the indexes of an access method other than btree
// (GIN, GiST) first, in their order otherwise. They take the longest to
// make: the users' trigram index as long as its six btree indexes
// together. Started first, its builder makes it while the other makes
// the rest, and both finish about together.
func slowestFirst(indexes []string) {
	slow := func(ddl string) bool {
		return strings.Contains(ddl, " USING ") && !strings.Contains(ddl, " USING btree ")
	}
	slices.SortStableFunc(indexes, func(a, b string) int {
		switch {
		case slow(a) && !slow(b):
			return -1
		case slow(b) && !slow(a):
			return 1
		}
		return 0
	})
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
	// Let go of it before the session closes: a closed session's backend
	// can hold its locks a while as it exits, and the next look (another
	// start, another index of a build) would take the index for made.
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtextextended('index:' || $1 || '.' || $2, 0))`, schema, name) //nolint:errcheck // the close frees it anyway
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
