package projections

import (
	"context"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// Once the leader's session is gone (its process ended), nobody leads:
// the monitor (and so `projections status`) must not name it.
func TestMonitor_names_no_leader_once_its_session_is_gone(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store := postgres.New(pool, postgres.Config{})
	topic := Users{}.Name()
	lctx, release, err := lead(ctx, pool, topic)
	if err != nil {
		t.Fatal(err)
	}
	m0 := NewMonitor(pool, store, time.Minute, topic)
	if err := m0.Sample(ctx); err != nil || m0.Snapshot()[0].Leader != holder {
		t.Fatalf("while leading: leader %q, %v; want %q", m0.Snapshot()[0].Leader, err, holder)
	}
	release() // the leader goes away: hold closes its session, freeing the lock
	<-lctx.Done()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var locks int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks); err != nil {
			t.Fatal(err)
		}
		if locks == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lock still held")
		}
	}
	m := NewMonitor(pool, store, time.Minute, topic)
	if err := m.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	if got := m.Snapshot()[0].Leader; got != "" {
		t.Errorf("no session holds %s's leadership lock, yet the monitor says it is led by %q", topic, got)
	}
}

// Each status says when it was read; while the database cannot be
// reached the monitor keeps the last one, which then shows its age.
func TestMonitor_says_when_each_status_was_sampled(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	m := NewMonitor(pool, postgres.New(pool, postgres.Config{}), time.Minute, Users{}.Name())
	before := time.Now().Add(-time.Millisecond)
	if err := m.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	first := m.Snapshot()[0].SampledAt
	if first.Before(before) || first.After(time.Now()) {
		t.Fatalf("sampled at %v, want between %v and now", first, before)
	}
	pool.Close() // the database is gone for this monitor
	if err := m.Sample(ctx); err == nil {
		t.Fatal("a sample without a database succeeded")
	}
	if got := m.Snapshot()[0].SampledAt; !got.Equal(first) {
		t.Fatalf("after a failed sample: sampled at %v, want the last good sample's %v", got, first)
	}
}
