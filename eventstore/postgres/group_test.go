package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// held is a store with one writer, kept busy by an append to a stream
// whose lock another transaction holds, until the returned function lets
// it go: the appends made meanwhile wait, and the writer then takes them.
func held(ctx context.Context, t *testing.T) (*Store, *pgxpool.Pool, func()) {
	t.Helper()
	pool := pgtest.Pool(t)
	s, release := heldOn(ctx, t, pool)
	return s, pool, release
}

// heldOn is held on a pool of the caller's.
func heldOn(ctx context.Context, t *testing.T, pool *pgxpool.Pool) (*Store, func()) {
	t.Helper()
	s := New(pool, Config{Writers: 1})
	s.writers.patience = time.Hour // the appends wait for the writer held
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('held', 0))`); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, "held", eventstore.Any(), oneEvent())
		blocked <- err
	}()
	waitFor(t, func() bool { s.writers.mu.Lock(); defer s.writers.mu.Unlock(); return s.writers.busy == 1 })
	return s, func() {
		t.Helper()
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-blocked; err != nil {
			t.Fatal(err)
		}
	}
}

func oneEvent() []eventstore.EventData {
	return []eventstore.EventData{{ID: uuid.New(), Type: "test.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}

// queued waits until n appends wait for the writer.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	waitFor(t, func() bool { s.writers.mu.Lock(); defer s.writers.mu.Unlock(); return len(s.writers.queue) == n })
}

type outcome struct {
	res []eventstore.AppendResult
	err error
}

// each runs the appends at once and returns their outcomes in order once
// all have ended; before that, it waits for them all to queue.
func each(t *testing.T, s *Store, calls ...func() ([]eventstore.AppendResult, error)) func() []outcome {
	t.Helper()
	out := make([]outcome, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { out[i].res, out[i].err = call() })
		queued(t, s, i+1) // in this order
	}
	return func() []outcome { wg.Wait(); return out }
}

func TestAppends_that_wait_for_a_writer_commit_together_each_with_its_own_outcome(t *testing.T) {
	ctx := context.Background()
	s, _, release := held(ctx, t)
	retried := oneEvent()
	first, err := s.appendEvents(ctx, "retried", eventstore.NoStream(), args(retried))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.appendEvents(ctx, "moved", eventstore.NoStream(), args(oneEvent())); err != nil {
		t.Fatal(err)
	}
	wait := each(t, s,
		appending(ctx, s, "a", eventstore.NoStream(), oneEvent()),
		func() ([]eventstore.AppendResult, error) {
			return s.AppendStreams(ctx, []eventstore.StreamAppend{
				{Stream: "b", Expected: eventstore.NoStream(), Events: oneEvent()},
				{Stream: "c", Expected: eventstore.Any(), Events: append(oneEvent(), oneEvent()...)},
			})
		},
		appending(ctx, s, "moved", eventstore.NoStream(), oneEvent()),
		appending(ctx, s, "retried", eventstore.NoStream(), retried),
	)
	release()
	out := wait()

	if out[0].err != nil || out[1].err != nil {
		t.Fatalf("the appends whose expectations held failed: %v, %v", out[0].err, out[1].err)
	}
	a, b, c := out[0].res[0], out[1].res[0], out[1].res[1]
	if a.NextRevision != 0 || b.NextRevision != 0 || c.NextRevision != 1 {
		t.Errorf("revisions %d, %d, %d; want 0, 0, 1", a.NextRevision, b.NextRevision, c.NextRevision)
	}
	if a.Position.Commit != b.Position.Commit || b.Position.Commit != c.Position.Commit {
		t.Errorf("positions %v, %v, %v: not one transaction", a.Position, b.Position, c.Position)
	}
	if !(a.Position.Prepare < b.Position.Prepare && b.Position.Prepare < c.Position.Prepare) {
		t.Errorf("positions %v, %v, %v: not in the order the appends came", a.Position, b.Position, c.Position)
	}
	var conflict *eventstore.WrongExpectedRevisionError
	if !errors.As(out[2].err, &conflict) || conflict.Stream != "moved" {
		t.Errorf("an append whose expectation failed: %v, want a conflict on moved", out[2].err)
	}
	if out[3].err != nil || out[3].res[0] != first {
		t.Errorf("a retry answered %+v, %v; want %+v, as the first time", out[3].res, out[3].err, first)
	}
	log, err := s.ReadAll(ctx, eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	var streams []string
	for _, e := range log {
		streams = append(streams, e.Stream)
	}
	if want := "[retried moved held a b c c]"; fmt.Sprint(streams) != want {
		t.Errorf("log %v, want %s", streams, want)
	}
}

func TestAppends_in_a_batch_that_fails_are_written_alone(t *testing.T) {
	ctx := context.Background()
	s, pool, release := held(ctx, t)
	stored := oneEvent()
	if _, err := s.appendEvents(ctx, "first", eventstore.NoStream(), args(stored)); err != nil {
		t.Fatal(err)
	}
	wait := each(t, s,
		appending(ctx, s, "x", eventstore.NoStream(), oneEvent()),
		appending(ctx, s, "again", eventstore.NoStream(), stored), // an id stored in another stream
		appending(ctx, s, "y", eventstore.NoStream(), oneEvent()),
	)
	release()
	out := wait()
	if out[0].err != nil || out[2].err != nil {
		t.Fatalf("appends beside one that failed: %v, %v", out[0].err, out[2].err)
	}
	var conflict *eventstore.WrongExpectedRevisionError
	if !errors.As(out[1].err, &conflict) || conflict.Stream != "again" {
		t.Errorf("an append of an id stored elsewhere: %v, want a conflict on again", out[1].err)
	}
	if out[0].res[0].Position.Commit == out[2].res[0].Position.Commit {
		t.Errorf("x and y at %v and %v: written together, where the batch failed", out[0].res[0].Position, out[2].res[0].Position)
	}
	if n := streamLen(ctx, t, pool, "again"); n != 0 {
		t.Errorf("again has %d events, want none", n)
	}
}

func TestAppends_to_one_stream_that_wait_go_in_the_order_they_came(t *testing.T) {
	ctx := context.Background()
	s, _, release := held(ctx, t)
	wait := each(t, s,
		appending(ctx, s, "one", eventstore.NoStream(), oneEvent()),
		appending(ctx, s, "one", eventstore.Exact(0), oneEvent()),
	)
	release()
	out := wait()
	if out[0].err != nil || out[1].err != nil {
		t.Fatalf("two appends to one stream, the second expecting the first: %v, %v", out[0].err, out[1].err)
	}
	if out[1].res[0].NextRevision != 1 || out[1].res[0].Position.Commit == out[0].res[0].Position.Commit {
		t.Errorf("second append %+v after %+v: want revision 1 in a later transaction", out[1].res[0], out[0].res[0])
	}
}

func TestAn_append_whose_caller_stops_waiting_before_its_batch_is_not_written(t *testing.T) {
	ctx := context.Background()
	s, pool, release := held(ctx, t)
	gone, cancel := context.WithCancel(ctx)
	wait := each(t, s,
		func() ([]eventstore.AppendResult, error) {
			r, err := s.Append(gone, "gone", eventstore.NoStream(), oneEvent())
			return []eventstore.AppendResult{r}, err
		},
		appending(ctx, s, "kept", eventstore.NoStream(), oneEvent()),
	)
	cancel()
	release()
	out := wait()
	if !errors.Is(out[0].err, context.Canceled) || out[1].err != nil {
		t.Fatalf("outcomes %v and %v; want canceled, then written", out[0].err, out[1].err)
	}
	if n := streamLen(ctx, t, pool, "gone"); n != 0 {
		t.Errorf("gone has %d events, want none", n)
	}
}

func args(events []eventstore.EventData) appendArgs {
	var cols appendArgs
	cols.add(events)
	return cols
}

func streamLen(ctx context.Context, t *testing.T, pool *pgxpool.Pool, stream string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream = $1`, stream).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Writers racing on one stream, each expecting the revision it last saw:
// every success gets a revision of its own, and the stream holds exactly
// the successes, whichever appends went together.
func TestAppends_racing_on_one_stream_conflict_rather_than_overwrite(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := New(pool, Config{})
	const racers, wins = 8, 200
	var mu sync.Mutex
	revisions := map[uint64]bool{}
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			seen := eventstore.NoStream()
			for {
				mu.Lock()
				done := len(revisions) >= wins
				mu.Unlock()
				if done {
					return
				}
				r, err := s.Append(ctx, "raced", seen, oneEvent())
				var conflict *eventstore.WrongExpectedRevisionError
				switch {
				case errors.As(err, &conflict):
					seen = eventstore.Revision(conflict.Actual)
				case err != nil:
					t.Error(err)
					return
				default:
					mu.Lock()
					if revisions[r.NextRevision] {
						t.Errorf("revision %d given twice", r.NextRevision)
					}
					revisions[r.NextRevision] = true
					mu.Unlock()
					seen = eventstore.Exact(r.NextRevision)
				}
			}
		})
	}
	wg.Wait()
	if n := streamLen(ctx, t, pool, "raced"); n != len(revisions) {
		t.Errorf("the stream holds %d events, %d appends succeeded", n, len(revisions))
	}
}

// appending is an each call that Appends to one stream.
func appending(ctx context.Context, s *Store, stream string, exp eventstore.ExpectedRevision, events []eventstore.EventData) func() ([]eventstore.AppendResult, error) {
	return func() ([]eventstore.AppendResult, error) {
		r, err := s.Append(ctx, stream, exp, events)
		return []eventstore.AppendResult{r}, err
	}
}
