package readapi

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// Reads beyond Concurrent wait for a turn, in order, and stop waiting when
// their caller goes.
func TestQuery_runs_at_most_Concurrent_reads_at_once(t *testing.T) {
	d := Deps{running: make(chan struct{}, 2)}
	var now, most atomic.Int32
	release := make(chan struct{})
	done := make(chan int, 5)
	for i := range 5 {
		go func() {
			_, _ = query(context.Background(), d, func(context.Context) (int, error) {
				n := now.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-release
				now.Add(-1)
				return i, nil
			})
			done <- i
		}()
	}
	time.Sleep(50 * time.Millisecond)
	if got := now.Load(); got != 2 {
		t.Fatalf("%d reads querying at once, want 2", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := query(ctx, d, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read whose caller went: %v", err)
	}
	close(release)
	for range 5 {
		<-done
	}
	if most.Load() != 2 {
		t.Fatalf("at most %d reads queried at once, want 2", most.Load())
	}
}
