package projections

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// A rebuild of the users read model starts without its readers' indexes
// and switches in with every one of them, as a build made whole has.
func TestRebuild_switches_in_with_the_indexes_it_deferred(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	invitedSome(ctx, t, store, "r", 3)
	tables, indexes := indexesApart(Users{})
	if strings.Contains(tables, "CREATE INDEX") || len(indexes) != strings.Count(Users{}.Schema(), "CREATE INDEX") ||
		!strings.Contains(tables, "CREATE TRIGGER rm_user_counts_insert") {
		t.Fatalf("split wrongly:\n%s\n--\n%s", tables, indexes)
	}
	whole := testBuild(ctx, t, pool, Users{}, Users{}.Schema())
	a, err := Rebuild(ctx, pool, store, Users{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, got := indexDefs(ctx, t, pool, whole), indexDefs(ctx, t, pool, a.Schema)
	if len(want) < 8 || !slices.Equal(got, want) {
		t.Fatalf("the rebuilt build's indexes:\n%s\nwant those of a whole build:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_users`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d users (%v), want 3", n, err)
	}
}

// indexDefs are a build's index definitions, its schema name left out.
func indexDefs(ctx context.Context, t *testing.T, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	rows, _ := pool.Query(ctx, `SELECT replace(indexdef, $1, 'S') FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, schema)
	defs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

// withIndexInBody is a projector whose schema has a CREATE INDEX line
// inside a function body: it stays where it is.
type withIndexInBody struct{ Users }

func (withIndexInBody) Schema() string {
	return "CREATE TABLE t (id int PRIMARY KEY, v int);\n" +
		"CREATE INDEX ON t (v);\n" +
		"CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n" +
		"CREATE INDEX ON t (id, v);\n" +
		"END $$;\n"
}

func TestIndexesApart_leaves_function_bodies_whole(t *testing.T) {
	tables, indexes := indexesApart(withIndexInBody{})
	if !slices.Equal(indexes, []string{"CREATE INDEX ON t (v);"}) || !strings.Contains(tables, "BEGIN\nCREATE INDEX ON t (id, v);\nEND $$;") {
		t.Fatalf("split:\n%s\n--\n%s", tables, indexes)
	}
}

// The users projector opts into ReadIndexes: none of its writes may need
// an index a rebuild creates only at the end (each would scan the table
// for every event, and a rebuild would take time quadratic in the users).
// With sequential scans priced out, a write that finds no other index
// still plans one.
func TestUsers_writes_need_none_of_the_indexes_a_rebuild_defers(t *testing.T) {
	ctx, pool, _ := storeFixture(t)
	tables, _ := indexesApart(Users{})
	schema := testBuild(ctx, t, pool, Users{}, tables)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read only
	if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()+`, public`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	planned := 0
	for _, typ := range event.Types() {
		zero, _ := event.Zero(typ)
		q := &pgx.Batch{}
		Users{}.Apply(q, event.Envelope{Event: zero})
		for _, qq := range q.QueuedQueries {
			rows, _ := tx.Query(ctx, "EXPLAIN "+qq.SQL, qq.Arguments...)
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatalf("%s: %v", typ, err)
			}
			if p := strings.Join(plan, "\n"); strings.Contains(p, "Seq Scan") {
				t.Errorf("%s: %s\nscans a table:\n%s", typ, qq.SQL, p)
			}
			planned++
		}
	}
	if planned < 8 {
		t.Fatalf("only %d statements planned", planned)
	}
}

// A first build starts without its readers' indexes, and the engine
// makes them once it has caught the build up with the log: the build then
// has every index of a build made whole, and none are pending.
func TestEngine_makes_a_first_builds_deferred_indexes_once_caught_up(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	last := invitedSome(ctx, t, store, "c", 5)
	a, _, err := EnsureOver(ctx, pool, store, Users{})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := PendingIndexes(ctx, pool); err != nil || n != 1 {
		t.Fatalf("pending after Ensure: %d (%v), want 1", n, err)
	}
	whole := testBuild(ctx, t, pool, Users{}, Users{}.Schema())
	if got := indexDefs(ctx, t, pool, a.Schema); len(got) >= len(indexDefs(ctx, t, pool, whole)) {
		t.Fatalf("a first build started with its readers' indexes: %v", got)
	}
	if !monitored(ctx, t, pool, store).IndexesPending {
		t.Fatal("the monitor does not report the pending indexes")
	}
	engine := testEngine(t, store, pool, 10*time.Millisecond)
	lookOften(engine)
	engine.AddProjector(pool, Users{})
	go func() { _ = engine.Run(ctx) }()
	<-engine.Running()
	deadline := time.Now().Add(10 * time.Second)
	for {
		at, err := LiveCheckpoint(ctx, pool, Users{}.Name())
		n, perr := PendingIndexes(ctx, pool)
		if err == nil && perr == nil && !at.Less(last) && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("at %s of %s, %d pending (%v, %v)", at, last, n, err, perr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, want := indexDefs(ctx, t, pool, a.Schema), indexDefs(ctx, t, pool, whole); !slices.Equal(got, want) {
		t.Fatalf("the caught up build's indexes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if monitored(ctx, t, pool, store).IndexesPending {
		t.Fatal("the monitor still reports pending indexes")
	}
}

// monitored is the users projector's status as a monitor samples it.
func monitored(ctx context.Context, t *testing.T, pool *pgxpool.Pool, store eventstore.Store) Status {
	t.Helper()
	m := NewMonitor(pool, store, time.Minute, Users{}.Name())
	if err := m.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	return m.Snapshot()[0]
}

// Over an empty log a first build is made whole: no batch would come for
// the engine to make its indexes after.
func TestEnsureOver_an_empty_log_defers_nothing(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	a, _, err := EnsureOver(ctx, pool, store, Users{})
	if err != nil {
		t.Fatal(err)
	}
	whole := testBuild(ctx, t, pool, Users{}, Users{}.Schema())
	if n, err := PendingIndexes(ctx, pool); err != nil || n != 0 || !slices.Equal(indexDefs(ctx, t, pool, a.Schema), indexDefs(ctx, t, pool, whole)) {
		t.Fatalf("%d pending (%v); indexes %v", n, err, indexDefs(ctx, t, pool, a.Schema))
	}
}

// A first build caught up with an idle log, its indexes still pending (an
// instance stopped while making them), gets them from the next engine
// with no batch to come.
func TestEngine_makes_pending_indexes_of_a_caught_up_build_on_an_idle_log(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	at := invited(ctx, t, store, "idle@example.com")
	a, _, err := EnsureOver(ctx, pool, store, Users{})
	if err != nil {
		t.Fatal(err)
	}
	// Caught up by an instance that stopped before making the indexes.
	if _, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, commit_pos, prepare_pos) VALUES ($1, $2, $3)`,
		a.Schema, int64(at.Commit), int64(at.Prepare)); err != nil {
		t.Fatal(err)
	}
	engine := testEngine(t, store, pool, 10*time.Millisecond)
	lookOften(engine)
	engine.AddProjector(pool, Users{})
	go func() { _ = engine.Run(ctx) }()
	<-engine.Running()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, err := PendingIndexes(ctx, pool); err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the indexes are still pending")
		}
	}
}

// invited appends an invitation of a fresh user and returns its position.
// invitedSome invites n users, prefix+"a@example.com" on, and returns
// the position of the last.
func invitedSome(ctx context.Context, t *testing.T, store eventstore.Store, prefix string, n int) (last eventstore.Position) {
	t.Helper()
	for i := range n {
		last = invited(ctx, t, store, prefix+string(rune('a'+i))+"@example.com")
	}
	return last
}

func invited(ctx context.Context, t *testing.T, store eventstore.Store, email string) eventstore.Position {
	t.Helper()
	return invite(ctx, t, store, user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: email, Roles: []user.Role{user.AccountViewer}})
}

// invite appends an invitation and returns its position.
func invite(ctx context.Context, t *testing.T, store eventstore.Store, e user.Invited) eventstore.Position {
	t.Helper()
	data, meta, err := event.Encode(e, event.Metadata{EventID: uuid.New(), OccurredAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.Append(ctx, user.Stream(e.UserID), eventstore.NoStream(), []eventstore.EventData{{ID: uuid.New(), Type: e.EventType(), Data: data, Metadata: meta}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Position
}

// lookOften makes an engine look for pending indexes every 20 ms.
func lookOften(e *Engine) {
	e.looks = indexLooks{every: 20 * time.Millisecond, spacing: 10 * time.Millisecond}
}

// withIndex is Users as a release adding one index would declare it: the
// index named, IF NOT EXISTS, and the version unchanged.
type withIndex struct{ Users }

func (withIndex) Schema() string {
	return Users{}.Schema() + "\nCREATE INDEX IF NOT EXISTS users_by_country ON rm_users (account_id, country);\n"
}

// A start gives the active build the index its projector added, without
// a new build (whose replay would hold the read model still meanwhile).
func TestAddDeclaredIndexes_adds_an_index_to_the_active_build_with_no_new_version(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	first, _, err := Ensure(ctx, pool, Users{})
	if err != nil {
		t.Fatal(err)
	}
	valid := func() bool {
		t.Helper()
		var ok bool
		err := pool.QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'users_by_country'`, first.Schema).Scan(&ok)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		return ok
	}
	if valid() {
		t.Fatal("the index is there before its release")
	}
	if again, newer, err := Ensure(ctx, pool, withIndex{}); err != nil || newer || again != first {
		t.Fatalf("ensure with the index: %+v newer %v, %v; want the same build %+v", again, newer, err, first)
	}
	for range 2 { // the second start finds it made
		if err := AddDeclaredIndexes(ctx, pool, withIndex{}); err != nil {
			t.Fatal(err)
		}
		if !valid() {
			t.Fatal("the active build has no valid index users_by_country")
		}
	}
	// One an interrupted CREATE INDEX CONCURRENTLY left invalid (made so
	// here through the catalog) is made again.
	if _, err := pool.Exec(ctx, `UPDATE pg_index SET indisvalid = false WHERE indexrelid = $1::regclass`, first.Schema+".users_by_country"); err != nil {
		t.Fatal(err)
	}
	if err := AddDeclaredIndexes(ctx, pool, withIndex{}); err != nil || !valid() {
		t.Fatalf("an invalid index left as it was: %v", err)
	}
}

// Every index a projector declares for AddDeclaredIndexes is written as
// it reads them, one statement a line: another shape would be made by new
// builds but never added to an active one.
func TestDeclaredIndexes_are_one_statement_a_line(t *testing.T) {
	for _, p := range []Versioned{Users{}, Partners{}, Licenses{}, Billing{}, Audit{}} {
		for _, line := range strings.Split(p.Schema(), "\n") {
			if !strings.Contains(line, "IF NOT EXISTS") || !strings.Contains(line, "INDEX") {
				continue
			}
			if _, _, _, ok := declaredIndex(line); !ok {
				t.Errorf("%s declares an index AddDeclaredIndexes cannot read: %q", p.Name(), line)
			}
		}
	}
}
