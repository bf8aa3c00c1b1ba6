package projections

import (
	"context"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/internal/pgtypes"
)

// testBuild starts a build that the test holds until it ends.
func testBuild(ctx context.Context, t *testing.T, pool *pgxpool.Pool, p Versioned, ddl string) string {
	t.Helper()
	schema, release, err := startBuildWith(ctx, pool, p, "test", ddl, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return schema
}

// A rebuild killed half way leaves its build behind; the next build of
// the projector drops it, and leaves alone one that a live process holds.
func TestRebuild_drops_the_build_a_killed_rebuild_left_behind(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	invitedSome(ctx, t, store, "k", 3)
	killed, release, err := startBuild(ctx, pool, Users{}, "rebuild")
	if err != nil {
		t.Fatal(err)
	}
	if err := build(ctx, pool, store, Users{}, killed, nil, nil); err != nil {
		t.Fatal(err)
	}
	release() // kill -9: the process's sessions end, its rows stay
	running := testBuild(ctx, t, pool, Users{}, Users{}.Schema())

	a, err := Rebuild(ctx, pool, store, Users{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exists := func(schema string) bool { return buildLeft(ctx, t, pool, schema) }
	if exists(killed) {
		t.Fatalf("the killed rebuild's build %s is still there", killed)
	}
	if !exists(running) {
		t.Fatalf("the build %s of a live process was dropped", running)
	}
	var listed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM projection_builds WHERE schema_name = $1`, a.Schema).Scan(&listed); err != nil || listed != 0 {
		t.Fatalf("the switched-in build %s still listed as in progress: %d, %v", a.Schema, listed, err)
	}
}

// endOnce is a store that runs hook the first time a read finds the end
// of the log.
type endOnce struct {
	*postgres.Store
	once sync.Once
	hook func()
}

func (s *endOnce) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	events, err := s.Store.ReadAll(ctx, after, limit)
	if err == nil && len(events) == 0 {
		s.once.Do(s.hook)
	}
	return events, err
}

// When the live build moves on while a rebuild catches up (under load,
// most rebuilds), the rebuild catches up again before it switches; its
// progress goes on from the events already done, where it started again
// from zero and told an operator, a moment before the switch, that the
// rebuild had begun anew with hours left.
func TestRebuild_progress_counts_on_over_a_second_catch_up(t *testing.T) {
	ctx, pool, inner := storeFixture(t)
	invitedSome(ctx, t, inner, "p", 3)
	live := liveUsers(ctx, t, pool, inner)
	// The rebuild reaches the end of the log; meanwhile one more event
	// comes and the live build applies it.
	store := &endOnce{Store: inner, hook: func() {
		invited(ctx, t, inner, "late@example.com")
		if err := build(ctx, pool, inner, Users{}, live.Schema, nil, nil); err != nil {
			t.Error(err)
		}
	}}
	var told []int64
	if _, err := Rebuild(ctx, pool, store, Users{}, func(done, _ int64) { told = append(told, done) }); err != nil {
		t.Fatal(err)
	}
	if len(told) < 2 || !slices.IsSorted(told) || told[len(told)-1] != 4 {
		t.Fatalf("progress told %v events done, want a count that only grows, to the 4 events of the log", told)
	}
}

// A rebuild switches in only once it holds every event the live build
// applied. Under load, an append is nearly always in flight, and a
// transaction of a command or a consumer that began before the last
// events were appended keeps them hidden from a read that cannot pass it
// while appends run; the live build, whose subscription passed it in a
// quiet moment, had applied them. The rebuild took the hidden tail for
// the end of the log, both when it caught up and when it checked before
// the switch, and switched in without those events (a soak: five license
// assignments missing from the live build, found by verify).
func TestRebuild_does_not_switch_in_without_events_hidden_behind_a_transaction_in_flight(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	invitedSome(ctx, t, store, "h", 2)
	live, _, err := EnsureOver(ctx, pool, store, Users{})
	if err != nil {
		t.Fatal(err)
	}
	older, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer older.Rollback(ctx) //nolint:errcheck // also when the test fails
	if _, err := older.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	invitedSome(ctx, t, store, "l", 2)
	// No append in flight: the live build passes the older transaction.
	if err := build(ctx, pool, store, Users{}, live.Schema, nil, nil); err != nil {
		t.Fatal(err)
	}
	// An append in flight holds the appends' mark (migration 010).
	appending, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer appending.Rollback(ctx) //nolint:errcheck // also when the test fails
	if _, err := appending.Exec(ctx, `SELECT pg_advisory_xact_lock_shared(1651077731, 1)`); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(300 * time.Millisecond)
		_ = appending.Rollback(ctx)
		_ = older.Rollback(ctx)
	}()
	// Before the deferred rollbacks: one transaction, one goroutine.
	defer func() { <-released }()
	a, err := Rebuild(ctx, pool, store, Users{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var users int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{a.Schema, "rm_users"}.Sanitize()).Scan(&users); err != nil {
		t.Fatal(err)
	}
	if users != 4 {
		t.Fatalf("the rebuild switched in with %d users, want the 4 the live build had", users)
	}
}

// buildLeft reports whether anything of a build is left: its schema, or
// its rows in projection_builds or projection_checkpoints.
func buildLeft(ctx context.Context, t *testing.T, pool *pgxpool.Pool, schema string) bool {
	t.Helper()
	var found bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)
		OR EXISTS (SELECT FROM projection_builds WHERE schema_name = $1)
		OR EXISTS (SELECT FROM projection_checkpoints WHERE name = $1)`, schema).Scan(&found); err != nil {
		t.Fatal(err)
	}
	return found
}

// A rebuild killed after its switch, before it dropped the build before
// (or whose drop of it failed, or was interrupted: it says the build
// "was left for the next build of users to drop"), leaves that build
// behind; the next build of the projector drops it. Nothing did: only
// builds under way were listed, and the build before was left for good.
func TestRebuild_drops_the_build_before_that_a_rebuild_killed_after_its_switch_left(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	invitedSome(ctx, t, store, "s", 3)
	before := liveUsers(ctx, t, pool, store)
	// A rebuild that switched, killed before it dropped the build before.
	killed, release, err := startBuild(ctx, pool, Users{}, "rebuild")
	if err != nil {
		t.Fatal(err)
	}
	if err := build(ctx, pool, store, Users{}, killed, nil, nil); err != nil {
		t.Fatal(err)
	}
	if old, switched, err := switchTo(ctx, pool, store, Users{}, killed, leftOut{}); err != nil || !switched || old.Schema != before.Schema {
		t.Fatalf("switch: %v, %v, %v", old, switched, err)
	}
	release()

	a, err := Rebuild(ctx, pool, store, Users{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if buildLeft(ctx, t, pool, before.Schema) {
		t.Errorf("the build before the killed rebuild's switch, %s, is still there", before.Schema)
	}
	if buildLeft(ctx, t, pool, killed) {
		t.Errorf("the killed rebuild's build %s, replaced by %s, is still there", killed, a.Schema)
	}
	var users int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_users`).Scan(&users); err != nil || users != 3 {
		t.Fatalf("readers read %d users, %v; want 3", users, err)
	}
}

// An interrupt (Ctrl-C, SIGTERM) that comes while the switch's COMMIT is
// on its way (its WAL flushed to a slow disk, or waiting for a
// synchronous standby) cuts the client's wait short, but the server
// commits: readers read the new build. The rebuild took the switch for
// failed and dropped its build, the one readers read, and the public
// views with it: every read of the projector failed until another
// rebuild.
func TestRebuild_interrupted_while_its_switch_commits_keeps_the_build_readers_read(t *testing.T) {
	gate := &commitGate{held: make(chan struct{}), release: make(chan struct{})}
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	pgtypes.Register(cfg)
	cfg.ConnConfig.DialFunc = gate.dial
	cfg.ConnConfig.Tracer = gate
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	store := postgres.New(pool, postgres.Config{})

	invitedSome(ctx, t, store, "c", 3)
	live := liveUsers(ctx, t, pool, store)
	gate.armed.Store(true)
	rctx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	type result struct {
		a   Active
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := Rebuild(rctx, pool, store, Users{}, nil)
		done <- result{a, err}
	}()
	select {
	case <-gate.held:
	case r := <-done:
		t.Fatalf("the rebuild ended (%v, %v) before its switch committed", r.a, r.err)
	}
	// The server has committed the switch; its answer has not reached
	// the rebuild.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if a, err := ActiveBuild(ctx, pool, Users{}.Name()); err != nil {
			t.Fatal(err)
		} else if a.Schema != live.Schema {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the switch never committed")
		}
	}
	interrupt()
	r := <-done
	close(gate.release)
	if r.err == nil {
		t.Fatal("an interrupted rebuild returned no error")
	}
	active, err := ActiveBuild(ctx, pool, Users{}.Name())
	if err != nil {
		t.Fatal(err)
	}
	if r.a.Schema != active.Schema {
		t.Errorf("the rebuild returned %q (%v), but readers read %s", r.a.Schema, r.err, active.Schema)
	}
	var users int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_users`).Scan(&users); err != nil || users != 3 {
		t.Fatalf("after the interrupted switch, readers read %d users (%v), want 3", users, err)
	}
	// The build before is the next build's to drop.
	if _, err := Rebuild(ctx, pool, store, Users{}, nil); err != nil {
		t.Fatal(err)
	}
	if buildLeft(ctx, t, pool, live.Schema) {
		t.Errorf("the build before the interrupted switch, %s, is still there", live.Schema)
	}
}

// commitGate holds back, once armed, the answer to the first COMMIT of a
// transaction that switched a build in (publish's INSERT INTO
// projection_versions), until release or until the client gives up on it
// (a deadline, as pgconn sets when a context ends): the server has
// committed, the client does not know.
type commitGate struct {
	armed   atomic.Bool
	once    sync.Once
	held    chan struct{} // closed when a COMMIT's answer is held back
	release chan struct{}
}

func (g *commitGate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: c, gate: g, cut: make(chan struct{})}, nil
}

func (g *commitGate) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c, ok := conn.PgConn().Conn().(*gatedConn)
	if !ok || !g.armed.Load() {
		return ctx
	}
	switch {
	case strings.Contains(data.SQL, "INSERT INTO projection_versions"):
		c.switching.Store(true)
	case data.SQL == "commit" && c.switching.Load() && g.armed.CompareAndSwap(true, false):
		c.hold.Store(true)
	}
	return ctx
}

func (g *commitGate) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

type gatedConn struct {
	net.Conn
	gate      *commitGate
	switching atomic.Bool
	hold      atomic.Bool
	cutOnce   sync.Once
	cut       chan struct{} // closed by a deadline set in the past
}

func (c *gatedConn) Read(b []byte) (int, error) {
	if c.hold.Load() {
		c.gate.once.Do(func() { close(c.gate.held) })
		select {
		case <-c.gate.release:
			c.hold.Store(false)
		case <-c.cut:
			return 0, os.ErrDeadlineExceeded
		}
	}
	return c.Conn.Read(b)
}

func (c *gatedConn) SetDeadline(t time.Time) error {
	if !t.IsZero() && time.Until(t) <= 0 {
		c.cutOnce.Do(func() { close(c.cut) })
	}
	return c.Conn.SetDeadline(t)
}

func (c *gatedConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && time.Until(t) <= 0 {
		c.cutOnce.Do(func() { close(c.cut) })
	}
	return c.Conn.SetReadDeadline(t)
}

// liveUsers gives the users projector its first build over what store
// holds, built to the log's end, and returns it.
func liveUsers(ctx context.Context, t *testing.T, pool *pgxpool.Pool, store eventstore.Store) Active {
	t.Helper()
	live, _, err := EnsureOver(ctx, pool, store, Users{})
	if err != nil {
		t.Fatal(err)
	}
	if err := build(ctx, pool, store, Users{}, live.Schema, nil, nil); err != nil {
		t.Fatal(err)
	}
	return live
}
