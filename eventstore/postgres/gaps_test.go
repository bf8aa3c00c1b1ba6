package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// gapWriters append in transactions they hold open for a while, so that
// transactions with lower ids commit after higher ones; some roll back,
// one stays open for most of the run, and another process's store appends
// too. Every reader of the log must get each committed event once, in
// increasing positions, and none of the rolled back ones.
func TestReaders_of_the_log_neither_skip_nor_repeat_appends_committed_out_of_order(t *testing.T) {
	outOfOrder(t, pgtest.Pool(t), nil)
}

// The same, in a database restored into a cluster behind it (see
// TestAppends_after_a_restore_into_another_cluster_follow_the_restored_log):
// the horizon below which the log is final moves with the positions.
func TestReaders_of_a_restored_log_neither_skip_nor_repeat_appends_committed_out_of_order(t *testing.T) {
	pool := pgtest.Pool(t)
	last := restored(t, pool)
	if _, err := postgres.Open(context.Background(), pool, postgres.Config{}); err != nil {
		t.Fatal(err)
	}
	outOfOrder(t, pool, &last)
}

// outOfOrder runs the writers and readers on pool; restored is the
// restored event already there, if any.
func outOfOrder(t *testing.T, pool *pgxpool.Pool, restored *eventstore.Position) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	here := postgres.New(pool, postgres.Config{PollInterval: 10 * time.Millisecond, PageSize: 7})
	elsewhere := postgres.New(pool, postgres.Config{})

	var mu sync.Mutex
	committed := map[uuid.UUID]bool{}
	keep := func(ids []uuid.UUID) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			committed[id] = true
		}
	}

	from := eventstore.Start
	if restored != nil {
		from = *restored
	}
	readers := map[string]<-chan eventstore.RecordedEvent{
		"subscription from the start":   follow(ctx, t, here, from),
		"subscription of another store": follow(ctx, t, elsewhere, from),
		"pages of ReadAll":              pages(ctx, here, from),
	}
	inFlight(t, pool, `SELECT pg_current_xact_id()`) // a consumer's, all along

	// One append held open for most of the run, with a low transaction id.
	long := uuid.New()
	commitLong := inFlight(t, pool, appendSQL, []uuid.UUID{long})
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := 0; i < 40 && ctx.Err() == nil; i++ {
				ids := []uuid.UUID{uuid.New()}
				if i%3 == 0 {
					ids = append(ids, uuid.New())
				}
				switch {
				case w == 5:
					if _, err := elsewhere.Append(ctx, fmt.Sprintf("g-%d-%d", w, i), eventstore.NoStream(), data(ids)); err != nil {
						t.Error(err)
						return
					}
					keep(ids)
				case heldAppend(ctx, t, pool, ids, time.Duration(rand.IntN(8))*time.Millisecond, i%5 == 4):
					keep(ids)
				}
			}
		})
	}
	// A subscription that starts once the log has moved on.
	time.Sleep(150 * time.Millisecond)
	readers["subscription that starts late"] = follow(ctx, t, here, from)
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("writers did not finish")
	}
	commitLong()
	keep([]uuid.UUID{long})

	for name, got := range readers {
		if err := exactlyOnceInOrder(got, committed, 20*time.Second); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

const appendSQL = `SELECT * FROM append_events('held-' || gen_random_uuid(), 'no_stream', NULL, $1,
	array_fill('test.appended'::text, ARRAY[cardinality($1::uuid[])]),
	array_fill('{}'::bytea, ARRAY[cardinality($1::uuid[])]), array_fill(''::bytea, ARRAY[cardinality($1::uuid[])]))`

// heldAppend appends ids in a transaction held open for hold, then
// commits it, or rolls it back; it reports whether it committed.
func heldAppend(ctx context.Context, t *testing.T, pool *pgxpool.Pool, ids []uuid.UUID, hold time.Duration, rollback bool) bool {
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Error(err)
		return false
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after commit
	if _, err := tx.Exec(ctx, appendSQL, ids); err != nil {
		t.Error(err)
		return false
	}
	time.Sleep(hold)
	if rollback {
		return false
	}
	if err := tx.Commit(ctx); err != nil {
		t.Error(err)
		return false
	}
	return true
}

func data(ids []uuid.UUID) []eventstore.EventData {
	out := make([]eventstore.EventData, len(ids))
	for i, id := range ids {
		out[i] = eventstore.EventData{ID: id, Type: "test.appended", Data: []byte(`{}`)}
	}
	return out
}

// follow subscribes to s after from and passes on the events it gets.
func follow(ctx context.Context, t *testing.T, s *postgres.Store, from eventstore.Position) <-chan eventstore.RecordedEvent {
	t.Helper()
	sub, err := s.Subscribe(ctx, from, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	out := make(chan eventstore.RecordedEvent, 4096)
	go func() {
		for {
			m, err := sub.Recv()
			if err != nil {
				return
			}
			if m.Event != nil {
				out <- *m.Event
			}
		}
	}()
	return out
}

// pages follows the log with ReadAll, small pages at a time, looking
// again a little after each short one (as a feed client resuming after
// its last id, or a catch-up, does).
func pages(ctx context.Context, s *postgres.Store, from eventstore.Position) <-chan eventstore.RecordedEvent {
	out := make(chan eventstore.RecordedEvent, 4096)
	go func() {
		for at := from; ctx.Err() == nil; {
			page, err := s.ReadAll(ctx, at, 5)
			if err != nil {
				return
			}
			for _, e := range page {
				out <- e
			}
			if len(page) > 0 {
				at = page[len(page)-1].Position
			}
			if len(page) < 5 {
				time.Sleep(5 * time.Millisecond)
			}
		}
	}()
	return out
}

// exactlyOnceInOrder takes len(want) events from got, then checks nothing
// more comes, each wanted event came once, and positions increase.
func exactlyOnceInOrder(got <-chan eventstore.RecordedEvent, want map[uuid.UUID]bool, within time.Duration) error {
	seen := map[uuid.UUID]bool{}
	var last eventstore.Position
	deadline := time.After(within)
	for len(seen) < len(want) {
		select {
		case e := <-got:
			switch {
			case !want[e.ID]:
				return fmt.Errorf("event %s at %s was never committed", e.ID, e.Position)
			case seen[e.ID]:
				return fmt.Errorf("event %s at %s delivered twice", e.ID, e.Position)
			case !last.Less(e.Position):
				return fmt.Errorf("event at %s after %s", e.Position, last)
			}
			seen[e.ID], last = true, e.Position
		case <-deadline:
			return fmt.Errorf("got %d of %d events", len(seen), len(want))
		}
	}
	select {
	case e := <-got:
		return fmt.Errorf("extra event %s at %s", e.ID, e.Position)
	case <-time.After(200 * time.Millisecond):
		return nil
	}
}
