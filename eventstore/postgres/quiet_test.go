package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// received runs a subscription from the start in the background.
func received(t *testing.T, s *postgres.Store) <-chan eventstore.RecordedEvent {
	t.Helper()
	return follow(context.Background(), t, s, eventstore.Start)
}

func appendOne(t *testing.T, s *postgres.Store, stream string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	_, err := s.Append(context.Background(), stream, eventstore.Any(), []eventstore.EventData{{ID: id, Type: "test.appended", Data: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// inFlight begins a transaction that has a transaction id and has not
// ended, as a projector's has while it applies a batch.
func inFlight(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) (commit func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Before the pool's cleanup, which waits for the connection.
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		t.Fatal(err)
	}
	return func() { // Error, not Fatal: a test may commit from a goroutine
		if err := tx.Commit(ctx); err != nil {
			t.Error(err)
		}
	}
}

func TestSubscription_passes_a_transaction_in_flight_that_is_not_an_append(t *testing.T) {
	pool := pgtest.Pool(t)
	s := postgres.New(pool, postgres.Config{})
	events := received(t, s)
	inFlight(t, pool, `SELECT pg_current_xact_id()`)
	id := appendOne(t, s, "thing-1")
	select {
	case e := <-events:
		if e.ID != id {
			t.Fatalf("got %s, want %s", e.ID, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event waited for a transaction that writes no events")
	}
}

func TestSubscription_waits_for_an_append_in_flight_with_a_lower_position(t *testing.T) {
	pool := pgtest.Pool(t)
	s := postgres.New(pool, postgres.Config{})
	events := received(t, s)
	first := uuid.New()
	commit := inFlight(t, pool, `SELECT * FROM append_events('thing-a', 'any', NULL, $1, '{test.appended}', '{"{}"}', '{""}')`, []uuid.UUID{first})
	second := appendOne(t, s, "thing-b")
	select {
	case e := <-events:
		t.Fatalf("got %s (%s) while an earlier append was in flight", e.ID, e.Stream)
	case <-time.After(300 * time.Millisecond):
	}
	commit()
	for _, want := range []uuid.UUID{first, second} {
		select {
		case e := <-events:
			if e.ID != want {
				t.Fatalf("got %s, want %s: the log's order is the appends' transaction order", e.ID, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event %s", want)
		}
	}
}

func TestAppendEvents_refuses_a_transaction_that_already_wrote(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `SELECT * FROM append_events('thing-c', 'any', NULL, $1, '{test.appended}', '{"{}"}', '{""}')`, []uuid.UUID{uuid.New()})
	if err == nil || !strings.Contains(err.Error(), "before anything else") {
		t.Fatalf("got %v, want append_events refused", err)
	}
}

// readQuiet relies on a pgx batch outside a transaction running as one
// implicit transaction: the lock its first statement takes is still held
// when the second takes its snapshot.
func TestBatch_statements_share_one_transaction(t *testing.T) {
	pool := pgtest.Pool(t)
	b := &pgx.Batch{}
	var locked bool
	var held int
	b.Queue(`SELECT pg_try_advisory_xact_lock(1651077731, 1)`).QueryRow(func(row pgx.Row) error { return row.Scan(&locked) })
	b.Queue(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
	           AND classid = 1651077731 AND objid = 1 AND granted`).QueryRow(func(row pgx.Row) error { return row.Scan(&held) })
	if err := pool.SendBatch(context.Background(), b).Close(); err != nil {
		t.Fatal(err)
	}
	if !locked || held != 1 {
		t.Fatalf("locked %v, held by the next statement %d; want true, 1", locked, held)
	}
}

// A build reads the log with ReadAll and takes a short page for its end: a
// transaction in flight that is not an append (a projector's, a report's,
// another database's in the cluster) must not make the log look shorter.
// An append in flight still holds back what comes after it, and ReadAll
// waits for it rather than answer a page cut short (which a build, again,
// would take for the end).
func TestReadAll_passes_a_transaction_in_flight_that_is_not_an_append(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := postgres.New(pool, postgres.Config{})
	inFlight(t, pool, `SELECT pg_current_xact_id()`)
	ids := []uuid.UUID{appendOne(t, s, "thing-1"), appendOne(t, s, "thing-2")}
	got, err := s.ReadAll(ctx, eventstore.Start, 10)
	if err != nil || len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] {
		t.Fatalf("read %d events (%v), want the 2 appended", len(got), err)
	}

	commit := inFlight(t, pool, `SELECT * FROM append_events('thing-a', 'any', NULL, $1, '{test.appended}', '{"{}"}', '{""}')`, []uuid.UUID{uuid.New()})
	appendOne(t, s, "thing-b")
	ends := time.Now().Add(100 * time.Millisecond)
	go func() {
		time.Sleep(time.Until(ends))
		commit()
	}()
	if got, err := s.ReadAll(ctx, got[1].Position, 10); err != nil || len(got) != 2 || time.Now().Before(ends) {
		t.Fatalf("read %d events (%v) past an append in flight, want it waited for and then both", len(got), err)
	}
}
