package projections

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// acrossViews is the users projector writing rm_users, rm_user_history
// and rm_accounts in that order, in statements no connection has parsed.
type acrossViews struct{}

func (acrossViews) Name() string     { return Users{}.Name() }
func (acrossViews) Version() int     { return Users{}.Version() }
func (acrossViews) Schema() string   { return Users{}.Schema() }
func (acrossViews) Tables() []string { return Users{}.Tables() }
func (acrossViews) Apply(q *pgx.Batch, _ event.Envelope) {
	id := uuid.New()
	q.Queue(`UPDATE rm_users SET roles = $2 WHERE user_id = $1 /* across views */`, id, []string{"x"})
	q.Queue(`UPDATE rm_user_history SET entries = $2 WHERE user_id = $1 /* across views */`, id, "[]")
	q.Queue(`UPDATE rm_accounts SET domains = $2 WHERE account_id = $1 /* across views */`, id, []string{"x"})
}

// A batch sent in one round trip has its new statements parsed before its
// BEGIN, against the public views, taking their locks in its own order;
// a switch takes them in publish's. The two can deadlock, and when the
// switch is the one PostgreSQL stops, the rebuild must try the switch
// again, not drop a build it may have taken hours to make.
func TestRebuild_switches_in_after_a_deadlock_with_a_batch_parsed_against_the_views(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := pgtest.Pool(t)
	store := postgres.New(pool, postgres.Config{})
	live, _, err := Ensure(ctx, pool, Users{})
	if err != nil {
		t.Fatal(err)
	}
	invitedSome(ctx, t, store, "d", 2)
	if err := build(ctx, pool, store, Users{}, live.Schema, nil, nil); err != nil {
		t.Fatal(err)
	}
	at, err := LoadCheckpoint(ctx, pool, live.Schema)
	if err != nil {
		t.Fatal(err)
	}
	waiting := func(view, mode string) bool {
		var w bool
		if err := pool.QueryRow(ctx, `
			SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			                WHERE NOT l.granted AND c.relname = $1 AND l.mode = $2
			                  AND c.relnamespace = 'public'::regnamespace)`, view, mode).Scan(&w); err != nil {
			t.Fatal(err)
		}
		return w
	}
	until := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s", what)
			}
		}
	}

	// Something holds rm_user_history for a moment (here a lock; live,
	// as well a backend descheduled between two parses), so that the
	// batch's parse stops with rm_users locked and rm_accounts to lock.
	reader, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback(ctx) //nolint:errcheck // also when the test fails
	if _, err := reader.Exec(ctx, `LOCK TABLE public.rm_user_history IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var r userLog
	r.invited(uuid.New())
	rec := r.records[0]
	rec.Position = eventstore.Position{Commit: at.Commit + 1, Prepare: at.Prepare + 1}
	batch := Batch{Records: []Record{rec}, Through: rec.Position}
	sent := make(chan error, 1)
	go func() {
		sent <- applyOneTrip(ctx, pool, acrossViews{}, batch, leftAt{schema: live.Schema, version: live.Version, at: at})
	}()
	until("the batch's parse waits for the reader", func() bool { return waiting("rm_user_history", "RowExclusiveLock") })

	rebuilt := make(chan error, 1)
	var switched Active
	go func() {
		var err error
		switched, err = Rebuild(ctx, pool, store, Users{}, nil)
		rebuilt <- err
	}()
	until("the switch waits for the batch's parse", func() bool { return waiting("rm_users", "AccessExclusiveLock") })
	// The switch waits first, so PostgreSQL stops it once the batch's
	// parse, let go on, waits for the switch in turn.
	time.Sleep(200 * time.Millisecond)
	if err := reader.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-rebuilt; err != nil {
		t.Fatalf("the rebuild failed: %v", err)
	}
	<-sent // either way: refused, or applied before the switch
	if a, err := ActiveBuild(ctx, pool, Users{}.Name()); err != nil || a != switched || a.Schema == live.Schema {
		t.Fatalf("active: %+v, %v; want the rebuilt %+v", a, err, switched)
	}
}
