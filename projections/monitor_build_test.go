package projections

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// manualNow is a clock a test moves by hand.
type manualNow struct{ at time.Time }

func (c *manualNow) now() time.Time      { return c.at }
func (c *manualNow) add(d time.Duration) { c.at = c.at.Add(d) }

// While a release builds its projector's new version in the background
// (engine.Prepare), its handler waits and the old build stands still, as
// the docs say, while the log moves on: the build moving is the projector
// moving. It read as stalled after StallAfter, and every instance of the
// release answered /readyz 503 until the build switched in (a deploy over
// a large log took them all out of the load balancer). A build that stops
// moving is a stall all the same.
func TestMonitor_a_new_version_built_in_the_background_is_not_stalled(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	anotherInvite(ctx, t, store)
	liveUsers(ctx, t, pool, store) // the old release's build, at the head
	schema := testBuild(ctx, t, pool, otherVersion{}, otherVersion{}.Schema())
	clk := &manualNow{at: time.Now()}
	m := NewMonitor(pool, store, 30*time.Second, Users{}.Name())
	m.now = clk.now
	state := func() Status {
		t.Helper()
		if err := m.Sample(ctx); err != nil {
			t.Fatal(err)
		}
		return m.Snapshot()[0]
	}
	if s := state(); s.State != StateLive || s.LagEvents != 0 {
		t.Fatalf("before the log moves: %+v", s)
	}
	// Under an instance of the old release, which leads the projector
	// and writes the old build, the old build standing still is a stall
	// whatever the new one does.
	lctx, release, err := lead(ctx, pool, Users{}.Name())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		anotherInvite(ctx, t, store)
		if err := build(ctx, pool, store, otherVersion{}, schema, nil, nil); err != nil {
			t.Fatal(err)
		}
		clk.add(20 * time.Second)
		state()
	}
	if s := state(); s.State != StateStalled {
		t.Fatalf("led by an instance of the old release, the old build stood still for 40s: %s (%+v)", s.State, s)
	}
	release() // the last instance of the old release goes
	<-lctx.Done()
	for deadline := time.Now().Add(5 * time.Second); state().Leader != ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the old release still leads")
		}
	}
	for range 3 {
		anotherInvite(ctx, t, store) // the old build does not take it
		clk.add(20 * time.Second)
		if s := state(); s.State == StateStalled || m.Stalled() != nil {
			t.Fatalf("while the new version's build catches up: %s, %v (%+v)", s.State, m.Stalled(), s)
		}
		if err := build(ctx, pool, store, otherVersion{}, schema, nil, nil); err != nil {
			t.Fatal(err)
		}
		clk.add(20 * time.Second)
		if s := state(); s.State == StateStalled || m.Stalled() != nil {
			t.Fatalf("while the new version's build catches up: %s, %v (%+v)", s.State, m.Stalled(), s)
		}
	}
	// The build stops (stuck on a lock, say) while the log moves on.
	anotherInvite(ctx, t, store)
	clk.add(20 * time.Second)
	state()
	clk.add(20 * time.Second)
	if s := state(); s.State != StateStalled || m.Stalled() == nil {
		t.Fatalf("neither build moved for 40s while the log did: %s (%+v)", s.State, s)
	}
}

// lagSeconds is the age of the first event not yet applied, by this
// process's clock, and recorded_at is by the database's (or EventStoreDB's
// server's): a database whose clock runs ahead of the instance's made a
// live projector's lag negative, in the admin route and in lag_seconds.
func TestMonitor_lag_in_seconds_is_never_negative(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	liveUsers(ctx, t, pool, store)
	anotherInvite(ctx, t, store)                            // not applied: nothing runs the projector
	clk := &manualNow{at: time.Now().Add(-5 * time.Second)} // the database's clock is 5s ahead
	m := NewMonitor(pool, store, 30*time.Second, Users{}.Name())
	m.now = clk.now
	if err := m.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	if s := m.Snapshot()[0]; s.LagEvents != 1 || s.LagSeconds < 0 {
		t.Fatalf("one event behind, recorded just now: %d events, %vs", s.LagEvents, s.LagSeconds)
	}
}

// rebuildAfterVersions rebuilds the users read model, once, as soon as
// the traced pool has read projection_versions.
type rebuildAfterVersions struct {
	read    atomic.Bool
	once    sync.Once
	rebuild func()
}

func (r *rebuildAfterVersions) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, "projection_versions") {
		r.read.Store(true)
	}
	return ctx
}

func (r *rebuildAfterVersions) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {
	if r.read.Load() {
		r.once.Do(r.rebuild)
	}
}

// A switch between the monitor's reading the active build and its
// checkpoint left it reading the checkpoint of the build just dropped:
// one sample of a live projector a whole log behind.
func TestMonitor_a_switch_while_it_samples_is_no_lag(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	anotherInvite(ctx, t, store)
	live := liveUsers(ctx, t, pool, store)
	tracer := &rebuildAfterVersions{rebuild: func() {
		if _, err := Rebuild(ctx, pool, store, Users{}, nil); err != nil {
			t.Error(err)
		}
	}}
	cfg := pool.Config().Copy()
	cfg.ConnConfig.Tracer = tracer
	traced, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer traced.Close()
	m := NewMonitor(traced, store, 30*time.Second, Users{}.Name())
	if err := m.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	if a, err := ActiveBuild(ctx, pool, Users{}.Name()); err != nil || a.Schema == live.Schema {
		t.Fatalf("no switch while the monitor sampled: %+v, %v", a, err)
	}
	if s := m.Snapshot()[0]; s.LagEvents != 0 || s.State != StateLive {
		t.Fatalf("caught up throughout, sampled as %d events behind, %s (%+v)", s.LagEvents, s.State, s)
	}
}
