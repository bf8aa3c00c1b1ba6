package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// restored writes an event as pg_restore (or any logical copy) loads one
// into a new cluster: with the transaction id it had in the cluster it
// was dumped from, here a million transactions further along than this
// one.
func restored(t *testing.T, pool *pgxpool.Pool) eventstore.Position {
	t.Helper()
	var pos eventstore.Position
	err := pool.QueryRow(context.Background(), `
		INSERT INTO events (tx_id, event_id, stream, revision, type, data, metadata)
		VALUES (pg_current_xact_id()::text::bigint + 1000000, $1, 'restored-1', 0, 'test.appended', '{}', '')
		RETURNING tx_id, seq`, uuid.New()).Scan(&pos.Commit, &pos.Prepare)
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

// A database moved by pg_dump and pg_restore lands in a cluster whose
// transaction ids start low again: appends there got positions below
// every restored event, so every reader whose checkpoint was restored
// passed them over for good, and a command's position read as already
// reached by projectors that never applied it. Opened after a restore,
// the store moves the positions of new appends past the restored log.
func TestAppends_after_a_restore_into_another_cluster_follow_the_restored_log(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// One connection: the plans it made for appends before the restore
	// are the ones that must not keep the old transaction ids.
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	before := postgres.New(pool, postgres.Config{})
	appendOne(t, before, "before-restore-1")
	last := restored(t, pool)
	s, err := postgres.Open(ctx, pool, postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	events := follow(ctx, t, s, last) // a consumer whose checkpoint was restored
	id := appendOne(t, s, "after-restore-1")
	select {
	case e := <-events:
		if e.ID != id || !last.Less(e.Position) {
			t.Fatalf("got %s at %s, want %s after %s", e.ID, e.Position, id, last)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("an event appended after the restore never reached a reader at the restored log's end (%s)", last)
	}
	// A reopening finds nothing to move, and the log keeps its order.
	if _, err := postgres.Open(ctx, pool, postgres.Config{}); err != nil {
		t.Fatal(err)
	}
	next := appendOne(t, s, "after-restore-2")
	page, err := s.ReadAll(ctx, last, 10)
	if err != nil || len(page) != 2 || page[0].ID != id || page[1].ID != next {
		t.Fatalf("read %d events after the restored log (%v), want the 2 appended since", len(page), err)
	}
}
