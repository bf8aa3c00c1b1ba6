package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// A consumer's batch done signals those who wait for that consumer; a
// batch that failed does not.
func TestEngine_signals_a_consumers_finished_batch(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	engine := testEngine(t, store, pool, time.Hour) // a failed batch is not tried again here
	engine.AddConsumer("done", func(*message.Message) error { return nil })
	tried := make(chan struct{})
	engine.AddConsumer("failing", func(*message.Message) error { close(tried); return errors.New("no") })
	done, failing := engine.Advances().Next("done"), engine.Advances().Next("failing")
	runAndProbe(ctx, t, engine, store)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a finished batch did not signal")
	}
	select {
	case <-tried:
	case <-time.After(10 * time.Second):
		t.Fatal("the failing consumer was never handed the batch")
	}
	select {
	case <-failing:
		t.Fatal("a failed batch signaled")
	case <-time.After(50 * time.Millisecond):
	}
}

// runAndProbe runs engine until ctx ends, and appends one event once it
// runs: a batch for each of its handlers.
func runAndProbe(ctx context.Context, t *testing.T, engine *Engine, store eventstore.Store) {
	t.Helper()
	go func() { _ = engine.Run(ctx) }()
	<-engine.Running()
	if _, err := store.Append(ctx, "probe-1", eventstore.NoStream(), []eventstore.EventData{{ID: uuid.New(), Type: "probe.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
}

// testEngine is an engine over store and pool that logs nothing and
// redelivers a failed batch after retry.
func testEngine(t *testing.T, store eventstore.Store, pool *pgxpool.Pool, retry time.Duration) *Engine {
	t.Helper()
	return testEngineLogging(t, store, pool, retry, io.Discard)
}

// testEngineLogging is testEngine logging to out.
func testEngineLogging(t *testing.T, store eventstore.Store, pool *pgxpool.Pool, retry time.Duration, out io.Writer) *Engine {
	t.Helper()
	log := slog.New(slog.NewTextHandler(out, nil))
	feed := NewFeed(store, pool, log)
	feed.RetryDelay = retry
	engine, err := NewEngine(feed, log)
	if err != nil {
		t.Fatal(err)
	}
	return engine
}

// storeFixture is a test database with a PostgreSQL event store, and a
// context that ends with the test, before the database goes (cleanups
// run last first).
func storeFixture(t *testing.T) (context.Context, *pgxpool.Pool, *postgres.Store) {
	pool := pgtest.Pool(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx, pool, postgres.New(pool, postgres.Config{})
}

// In a rolling deploy, an instance of the old release may lead a projector
// when the new release switches in its new version's build. The old code
// cannot write that build; it must hand the projector over rather than
// hold it, waiting, while the build falls behind.
func TestEngine_an_older_release_hands_a_projector_over_to_the_newer_one(t *testing.T) {
	ctx, pool, store := storeFixture(t)

	run := func(p Versioned) { runEngine(ctx, t, pool, store, p, true) }
	another := func() eventstore.Position { return anotherInvite(ctx, t, store) }
	applied := func(pos eventstore.Position, version int) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			a, err := ActiveBuild(ctx, pool, Users{}.Name())
			at, cerr := LiveCheckpoint(ctx, pool, Users{}.Name())
			if err == nil && cerr == nil && a.Version == version && !at.Less(pos) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("version %d not at %s: active %+v at %s (%v %v)", version, pos, a, at, err, cerr)
			}
		}
	}

	run(Users{})
	applied(another(), Users{}.Version())
	run(otherVersion{}) // builds its version beside the live one and switches to it
	applied(eventstore.Start, otherVersion{}.Version())
	applied(another(), otherVersion{}.Version()) // which only the newer release can write
	var users int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_users`).Scan(&users); err != nil || users != 2 {
		t.Fatalf("the new build holds %d users (%v), want 2", users, err)
	}
}

// A build, a rebuild of the live version or a newer version's, is switched
// in only once it holds every event the live build has applied; a live
// checkpoint past the log's last event (EventStoreDB's can lie there) does
// not keep it out.
func TestSwitch_waits_until_the_build_holds_what_the_live_build_applied(t *testing.T) {
	for _, p := range []Versioned{Users{}, otherVersion{}} {
		t.Run(fmt.Sprintf("version %d", p.Version()), func(t *testing.T) { switchWaitsForTheLiveBuild(t, p) })
	}
}

func switchWaitsForTheLiveBuild(t *testing.T, p Versioned) {
	ctx, pool, store := storeFixture(t)
	active, _, err := Ensure(ctx, pool, Users{})
	if err != nil {
		t.Fatal(err)
	}
	var positions []eventstore.Position
	for range 3 {
		e := user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: "s@example.com", Roles: []user.Role{user.AccountViewer}}
		data, meta, err := event.Encode(e, event.Metadata{EventID: uuid.New()})
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Append(ctx, user.Stream(e.UserID), eventstore.NoStream(), []eventstore.EventData{{ID: uuid.New(), Type: e.EventType(), Data: data, Metadata: meta}})
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, res.Position)
	}
	live := func(at eventstore.Position) {
		t.Helper()
		if _, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, commit_pos, prepare_pos) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET commit_pos = $2, prepare_pos = $3`,
			active.Schema, int64(at.Commit), int64(at.Prepare)); err != nil {
			t.Fatal(err)
		}
	}
	live(positions[2])
	schema := testBuild(ctx, t, pool, p, p.Schema())
	if err := build(ctx, pool, store, p, schema, &positions[1], nil); err != nil {
		t.Fatal(err)
	}
	if _, switched, err := switchTo(ctx, pool, store, p, schema, leftOut{}); err != nil || switched {
		t.Fatalf("a build one event short switched in: %v, %v", switched, err)
	}
	if err := build(ctx, pool, store, p, schema, nil, nil); err != nil {
		t.Fatal(err)
	}
	live(eventstore.Position{Commit: positions[2].Commit + 1000, Prepare: 0}) // past the last event
	if _, switched, err := switchTo(ctx, pool, store, p, schema, leftOut{}); err != nil || !switched {
		t.Fatalf("a build holding every event did not switch in: %v, %v", switched, err)
	}
}

// Going back to an older release: its version is built and switched in
// over a newer active build when the operator rolls back, and only then.
func TestRollBack_switches_an_older_version_in_over_a_newer_active_build(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	e := user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: "r@example.com", Roles: []user.Role{user.AccountViewer}}
	invite(ctx, t, store, e)
	if _, err := Rebuild(ctx, pool, store, otherVersion{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Rebuild(ctx, pool, store, Users{}, nil); err == nil {
		t.Fatal("an older release rebuilt over a newer active build without rolling back")
	}
	a, err := RollBack(ctx, pool, store, Users{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	active, err := ActiveBuild(ctx, pool, Users{}.Name())
	if err != nil || active != a || active.Version != (Users{}).Version() {
		t.Fatalf("active build %+v (%v) after rolling back to %+v, want version %d", active, err, a, Users{}.Version())
	}
	var users int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_users WHERE user_id = $1`, e.UserID).Scan(&users); err != nil || users != 1 {
		t.Fatalf("the rolled back build holds %d of the user (%v), want 1", users, err)
	}
}

// In a rolling deploy, an instance of the new release may be the one
// left to take a projector's lead while its version is still being built
// (its handler can only wait: the live build is of an older version). It
// must leave the lead to an instance of the release that can write the
// live build; holding it froze the live read model (and every ?after
// read) for as long as the new build took, though an old instance ran.
func TestEngine_a_newer_release_leaves_the_lead_to_one_that_can_write_the_live_build(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	run := func(ctx context.Context, p Versioned, prepare bool) { runEngine(ctx, t, pool, store, p, prepare) }
	another := func() eventstore.Position { return anotherInvite(ctx, t, store) }
	reached := func(pos eventstore.Position, within time.Duration) bool {
		t.Helper()
		for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if at, err := LiveCheckpoint(ctx, pool, Users{}.Name()); err == nil && !at.Less(pos) {
				return true
			}
		}
		return false
	}
	led := func() bool {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks p, (SELECT `+leadKey+` AS k) h
			 WHERE p.locktype = 'advisory' AND p.granted AND p.objsubid = 1
			   AND p.classid = ((h.k >> 32) & 4294967295)::oid AND p.objid = (h.k & 4294967295)::oid`, Users{}.Name()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	}

	oldCtx, stopOld := context.WithCancel(ctx)
	run(oldCtx, Users{}, true)
	if !reached(another(), 20*time.Second) {
		t.Fatal("the old release never applied the first invitation")
	}
	// The new release's instance starts; its build is still being made
	// (here: never started), so the live build stays the old version's.
	run(ctx, otherVersion{}, false)
	stopOld()                  // the old leader stops (SIGTERM in a rolling deploy)
	time.Sleep(3 * LeaseRetry) // the new release's instance has had its chance to take the lead
	newLeads := led()
	run(ctx, Users{}, false) // another instance of the old release
	if pos := another(); !reached(pos, 10*time.Second) {
		at, _ := LiveCheckpoint(ctx, pool, Users{}.Name())
		t.Fatalf("an instance of the old release runs, yet the live build (version %d) stays at %s, short of %s: "+
			"the new release's instance holds the lead it cannot use (it took it: %v)", Users{}.Version(), at, pos, newLeads)
	}
}

// runEngine runs an engine of projector p until ctx ends, preparing its
// build first when prepare says so, and returns once it runs.
func runEngine(ctx context.Context, t *testing.T, pool *pgxpool.Pool, store eventstore.Store, p Versioned, prepare bool) {
	t.Helper()
	engine := testEngine(t, store, pool, 10*time.Millisecond)
	if prepare {
		if err := engine.Prepare(ctx, pool, store, slog.New(slog.NewTextHandler(io.Discard, nil)), p); err != nil {
			t.Fatal(err)
		}
	}
	engine.AddProjector(pool, p)
	go func() { _ = engine.Run(ctx) }()
	<-engine.Running()
}

// anotherInvite appends the invitation of a new user and returns its
// position.
func anotherInvite(ctx context.Context, t *testing.T, store eventstore.Store) eventstore.Position {
	t.Helper()
	return invite(ctx, t, store, user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: "x@example.com", FirstName: "X", LastName: "Y",
		Language: "en", Country: "US", Roles: []user.Role{user.AccountViewer}, InvitationID: uuid.New(), SentAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
}

// Instances of a new release that start together build its version once:
// each built it (a catch-up over the whole log, on the cores the others
// need) and switched to its own in turn.
func TestEngine_instances_starting_together_build_a_new_version_once(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	anotherInvite(ctx, t, store)
	liveUsers(ctx, t, pool, store)
	type outcome struct {
		a     Active
		built bool
		err   error
	}
	const instances = 3
	out := make(chan outcome, instances)
	for range instances {
		go func() {
			a, built, err := buildOnce(ctx, pool, store, otherVersion{})
			out <- outcome{a, built, err}
		}()
	}
	active := map[Active]bool{}
	builds := 0
	for range instances {
		o := <-out
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.built {
			builds++
		}
		active[o.a] = true
	}
	now, err := ActiveBuild(ctx, pool, Users{}.Name())
	if err != nil {
		t.Fatal(err)
	}
	if builds != 1 || len(active) != 1 || !active[now] || now.Version != (otherVersion{}).Version() {
		t.Fatalf("%d builds, instances left with %v, active %+v; want one build, all with it", builds, active, now)
	}
}

// flakyVersion is a new version of the users read model whose first
// builds fail (its DDL is refused), as a build cut short by a database
// restart does.
type flakyVersion struct {
	otherVersion
	fails *atomic.Int32
}

func (f flakyVersion) Schema() string {
	if f.fails.Add(-1) >= 0 {
		return "CREATE TABLE broken ("
	}
	return f.otherVersion.Schema()
}

// A background build of a new version that fails is tried again: it was
// left failed, and the projector's handler waited for it, the read model
// standing still until the instance was restarted.
func TestEngine_tries_a_failed_background_build_again(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	anotherInvite(ctx, t, store)
	liveUsers(ctx, t, pool, store)
	defer func(d time.Duration) { buildRetry = d }(buildRetry)
	buildRetry = 10 * time.Millisecond
	p := flakyVersion{fails: new(atomic.Int32)}
	p.fails.Store(2)
	engine, err := NewEngine(NewFeed(store, pool, slog.New(slog.DiscardHandler)), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Prepare(ctx, pool, store, slog.New(slog.DiscardHandler), p); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if a, err := ActiveBuild(ctx, pool, Users{}.Name()); err == nil && a.Version == p.Version() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new version was not built after its first two builds failed (%d failures left)", p.fails.Load())
		}
	}
}
