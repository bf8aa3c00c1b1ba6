package projections

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/internal/pgtest"
)

func TestLoadable_takes_only_inserts_of_bare_parameters_in_order(t *testing.T) {
	for sql, want := range map[string][]string{
		"INSERT INTO t (a, b) VALUES ($1, $2)":                                         {"a", "b"},
		"\n\tINSERT INTO s.t (a,\n b)\n\tVALUES ($1,$2)\n\tON CONFLICT (a) DO NOTHING": {"a", "b"},
		"INSERT INTO t (a, b) VALUES ($2, $1)":                                         nil,
		"INSERT INTO t (a, b) VALUES ($1, $2::int)":                                    nil,
		"INSERT INTO t (a, b, c) VALUES ($1, $2, now())":                               nil,
		"INSERT INTO t VALUES ($1, $2)":                                                nil,
		`INSERT INTO t ("A", b) VALUES ($1, $2)`:                                       nil,
		"INSERT INTO a.b.c (a) VALUES ($1)":                                            nil,
	} {
		s := parseInsert(sql)
		if s == nil {
			t.Errorf("%q: not a plain insert", sql)
			continue
		}
		if !slices.Equal(s.columns, want) {
			t.Errorf("%q: COPY columns %q, want %q", sql, s.columns, want)
		}
	}
}

// copies counts a pool's COPYs that succeeded and those that failed.
type copies struct{ ok, failed atomic.Int64 }

func (c *copies) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (c *copies) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (c *copies) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	return ctx
}
func (c *copies) TraceCopyFromEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceCopyFromEndData) {
	if d.Err != nil {
		c.failed.Add(1)
	} else {
		c.ok.Add(1)
	}
}

func copyCountedPool(t *testing.T) (*pgxpool.Pool, *copies) {
	t.Helper()
	c := &copies{}
	return pgtest.TracedPool(t, c), c
}

// A catch-up's batch loads its new users and their histories by COPY, and
// the read model ends as when each event is applied on its own.
func TestUsers_a_batch_loaded_by_copy_writes_what_one_event_at_a_time_writes(t *testing.T) {
	ctx := context.Background()
	one := pgtest.Pool(t)
	loaded, copied := copyCountedPool(t)
	a, _, err := Ensure(ctx, one, Users{})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Ensure(ctx, loaded, Users{})
	if err != nil {
		t.Fatal(err)
	}
	envs := randomUserEvents(rand.New(rand.NewPCG(5, 8)), 1000)
	for i := range envs {
		applyUsers(t, one, a.Schema, envs[i:i+1], false)
	}
	applyUsers(t, loaded, b.Schema, envs, true)
	if copied.ok.Load() < 2 || copied.failed.Load() != 0 {
		t.Fatalf("%d COPYs succeeded and %d failed; want rm_users' and rm_user_history's to succeed", copied.ok.Load(), copied.failed.Load())
	}
	for _, table := range (Users{}).Tables() {
		x, y := dump(t, one, a.Schema, table), dump(t, loaded, b.Schema, table)
		if !slices.Equal(x, y) {
			t.Errorf("%s: %d rows one at a time, %d loaded; first differences:\n%v\n%v", table, len(x), len(y), firstDiff(x, y), firstDiff(y, x))
		}
	}
}

// A load that fails, because a row is already there or because the batch
// itself inserts a key twice, leaves its rows to the inserts they were
// queued as (ON CONFLICT DO NOTHING then keeping the first row), and the
// rest of the transaction goes on.
func TestSendWrites_falls_back_to_inserts_when_a_load_fails(t *testing.T) {
	ctx := context.Background()
	pool, copied := copyCountedPool(t)
	if _, err := pool.Exec(ctx, `
		CREATE TABLE kept (id int PRIMARY KEY, v text);
		INSERT INTO kept VALUES (7, 'there before');
		CREATE TABLE twice (id int PRIMARY KEY, v text);
		CREATE TABLE after (id int)`); err != nil {
		t.Fatal(err)
	}
	q := &pgx.Batch{}
	for i := range loadRows {
		q.Queue(`INSERT INTO kept (id, v) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, i, "new")
	}
	q.Queue(`INSERT INTO after (id) VALUES ($1)`, 1)
	for i := range loadRows {
		q.Queue(`INSERT INTO twice (id, v) VALUES ($1, $2) ON CONFLICT DO NOTHING`, i%(loadRows/2), []string{"first", "second"}[i/(loadRows/2)])
	}
	w := planWrites(q)
	if !w.loads() {
		t.Fatal("planWrites loads nothing")
	}
	head, tail := &pgx.Batch{}, &pgx.Batch{}
	head.Queue(`BEGIN`)
	tail.Queue(`INSERT INTO after (id) VALUES (2)`)
	tail.Queue(`COMMIT`)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if err := sendWrites(ctx, conn.Conn(), head, w, tail); err != nil {
		t.Fatal(err)
	}
	if copied.failed.Load() != 2 || copied.ok.Load() != 0 {
		t.Errorf("%d COPYs failed and %d succeeded; want both to fail", copied.failed.Load(), copied.ok.Load())
	}
	var kept, before, twice, first, after int
	if err := pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM kept), (SELECT count(*) FROM kept WHERE v = 'there before'),
		       (SELECT count(*) FROM twice), (SELECT count(*) FROM twice WHERE v = 'first'),
		       (SELECT count(*) FROM after)`).Scan(&kept, &before, &twice, &first, &after); err != nil {
		t.Fatal(err)
	}
	if kept != loadRows || before != 1 || twice != loadRows/2 || first != loadRows/2 || after != 2 {
		t.Errorf("kept %d rows (%d as before), twice %d (%d first), after %d; want %d (1), %d (%[7]d), 2",
			kept, before, twice, first, after, loadRows, loadRows/2)
	}
}

// loads reports whether any rows go by COPY.
func (w *writes) loads() bool {
	for _, s := range w.steps {
		if s.load != nil {
			return true
		}
	}
	return false
}

// appendTo queues every statement of w on q, loads as the inserts they
// stand for: for tests that read one pipeline.
func (w *writes) appendTo(q *pgx.Batch) {
	for _, s := range w.steps {
		q.QueuedQueries = append(q.QueuedQueries, s.q.QueuedQueries...)
		if s.load != nil {
			s.load.queue(q)
		}
	}
}
