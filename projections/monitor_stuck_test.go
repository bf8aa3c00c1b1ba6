package projections

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// stuckOnce is a store whose first Lag never answers on its own, as a
// call into an EventStoreDB client that closed itself.
type stuckOnce struct {
	*postgres.Store
	calls atomic.Int32
}

func (s *stuckOnce) Lag(ctx context.Context, after eventstore.Position) (eventstore.Position, int64, time.Time, error) {
	if s.calls.Add(1) == 1 {
		<-ctx.Done()
		return eventstore.Position{}, 0, time.Time{}, ctx.Err()
	}
	return s.Store.Lag(ctx, after)
}

// A sample stuck for good stopped the monitor for good: no lag, no stall
// was reported again. Each sample is bounded now, and the next one runs.
func TestMonitor_samples_again_after_a_sample_that_never_answers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := pgtest.Pool(t)
	store := &stuckOnce{Store: postgres.New(pool, postgres.Config{})}
	m := NewMonitor(pool, store, time.Minute, Users{}.Name())
	m.sampleWait = 200 * time.Millisecond
	go m.Run(ctx)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st := m.Snapshot(); len(st) == 1 && !st[0].SampledAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sample after the stuck one within 10 s (%d Lag calls)", store.calls.Load())
		}
	}
}

// A handler cut short because its context ended (the lead lost, the
// process stopping) has not failed; one that returned an error of its
// own has.
func TestMonitor_a_handler_whose_context_ended_is_not_failing(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	topic := Users{}.Name()
	m := NewMonitor(pool, postgres.New(pool, postgres.Config{}), time.Minute, topic)
	m.Observe(topic, fmt.Errorf("users: apply: %w", context.Canceled))
	if err := m.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	if st := m.Snapshot()[0]; st.State == StateFailing {
		t.Fatalf("a canceled handler: %s (%s)", st.State, st.LastError)
	}
	m.Observe(topic, errors.New("users: apply: no such table"))
	if err := m.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	if st := m.Snapshot()[0]; st.State != StateFailing {
		t.Fatalf("a failed handler: %s", st.State)
	}
}
