package projections

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// The index that takes longest to make goes first, so that the two
// builders finish about together.
func TestIndexesApart_puts_the_trigram_index_first(t *testing.T) {
	_, indexes := indexesApart(Users{})
	if len(indexes) < 2 || !strings.Contains(indexes[0], "USING gin") || slices.ContainsFunc(indexes[1:], func(s string) bool { return strings.Contains(s, "USING") }) {
		t.Fatalf("deferred in this order:\n%s", strings.Join(indexes, "\n"))
	}
}

// deferredTable is a schema holding a table t of n rows, and the indexes
// deferred for it.
func deferredTable(ctx context.Context, t *testing.T, pool *pgxpool.Pool, n int, indexes ...string) string {
	t.Helper()
	schema := "rm_made_" + strings.ToLower(strings.ReplaceAll(t.Name()[4:], "_", ""))[:20]
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := createTables(ctx, tx, schema, `CREATE TABLE t (id int PRIMARY KEY, v int, w text);
			INSERT INTO t SELECT i, i % 97, md5(i::text) FROM generate_series(1, `+fmt.Sprint(n)+`) i;`); err != nil {
			return err
		}
		return deferIndexes(ctx, tx, schema, indexes)
	})
	if err != nil {
		t.Fatal(err)
	}
	return schema
}

// madeAll makes the indexes deferred for schema, and checks that the
// table then has exactly want (unnamed) and nothing is left deferred.
func madeAll(ctx context.Context, t *testing.T, pool *pgxpool.Pool, schema string, want ...string) {
	t.Helper()
	if err := makeIndexes(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}
	if got := unnamed(indexDefs(ctx, t, pool, schema)); !slices.Equal(got, want) {
		t.Fatalf("indexes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM projection_deferred_indexes WHERE schema_name = $1`, schema).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d still deferred (%v)", n, err)
	}
}

// unnamed are index definitions without the indexes' names, sorted: made
// at once, two indexes of one table may take each other's names.
func unnamed(defs []string) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		before, after, _ := strings.Cut(d, " ON ")
		out[i] = before[:strings.LastIndex(before, " ")] + " ON " + after
	}
	slices.Sort(out)
	return out
}

// An attempt cut short after some indexes leaves the rest to the next,
// which makes them and does not make those made again.
func TestMakeIndexes_makes_only_what_an_attempt_cut_short_left(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	schema := deferredTable(ctx, t, pool, 1000,
		"CREATE INDEX ON t (v);", "CREATE INDEX ON t (w);", "CREATE INDEX ON t USING hash (w);")
	// The attempt made the first, in its transaction, and stopped.
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := setSchema(ctx, tx, schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE INDEX ON t (v)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM projection_deferred_indexes WHERE schema_name = $1 AND seq = 1`, schema)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	madeAll(ctx, t, pool, schema,
		"CREATE INDEX ON S.t USING btree (v)",
		"CREATE INDEX ON S.t USING btree (w)",
		"CREATE INDEX ON S.t USING hash (w)",
		"CREATE UNIQUE INDEX ON S.t USING btree (id)")
}

// Two indexes of one table whose names PostgreSQL derives alike, made at
// once, each get a name of their own. Both choose t_v_idx when neither
// sees the other's yet, and the second to commit then fails on pg_class's
// unique index: a narrow window, so the test makes them several times
// over, with both builders' connections open (a second connection still
// to open put one builder well behind the other, and the test never
// failed so).
func TestMakeIndexes_makes_indexes_named_alike(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	for range 6 {
		schema := deferredTable(ctx, t, pool, 50000,
			"CREATE INDEX ON t (v);", "CREATE INDEX ON t (v) WHERE v > 10;")
		var conns []*pgxpool.Conn
		for range indexBuilders {
			c, err := pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Release()
		}
		madeAll(ctx, t, pool, schema,
			"CREATE INDEX ON S.t USING btree (v)",
			"CREATE INDEX ON S.t USING btree (v) WHERE (v > 10)",
			"CREATE UNIQUE INDEX ON S.t USING btree (id)")
		if err := dropBuild(ctx, pool, schema); err != nil {
			t.Fatal(err)
		}
	}
}

// With no periodic look at all, a first build over more events than
// count as live gets its indexes once its own batches have caught it up.
func TestEngine_makes_pending_indexes_when_its_own_batches_catch_the_build_up(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	var last eventstore.Position
	for i := range liveLag + 50 {
		last = invited(ctx, t, store, fmt.Sprintf("caught%d@example.com", i))
	}
	if _, _, err := EnsureOver(ctx, pool, store, Users{}); err != nil {
		t.Fatal(err)
	}
	engine := testEngine(t, store, pool, 10*time.Millisecond)
	engine.looks = indexLooks{every: time.Hour, spacing: 10 * time.Millisecond}
	engine.AddProjector(pool, Users{})
	go func() { _ = engine.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		at, err := LiveCheckpoint(ctx, pool, Users{}.Name())
		n, perr := PendingIndexes(ctx, pool)
		if err == nil && perr == nil && !at.Less(last) && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("at %s of %s, %d pending (%v, %v)", at, last, n, err, perr)
		}
	}
}
