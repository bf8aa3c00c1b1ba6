package bench

import (
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A p99 is a duration that at least 99% of those recorded are at most,
// and the least such: with fewer than 100, the slowest one.
func TestLatencies_p99_is_at_least_99_percent_of_them(t *testing.T) {
	for _, n := range []int{1, 50, 99, 150, 1000, 1999} {
		var l Latencies
		for _, i := range rand.Perm(n) {
			l.Add(time.Duration(i+1) * time.Millisecond)
		}
		s := l.Summary()
		atMost := int(s.P99 / time.Millisecond) // the durations are 1..n ms
		if 100*atMost < 99*n || 100*(atMost-1) >= 99*n {
			t.Errorf("n=%d: p99 %v, which %d of them are at most", n, s.P99, atMost)
		}
		if want := time.Duration((n+1)/2) * time.Millisecond; s.P50 != want {
			t.Errorf("n=%d: p50 %v, want %v", n, s.P50, want)
		}
	}
}

// A rate of zero (no steady rate was kept up with, or -live-fraction 0)
// is refused before any operation runs, where it once scheduled them all
// at once, without end.
func TestPaced_refuses_a_rate_of_zero(t *testing.T) {
	var calls atomic.Int64
	err := paced(0, 50*time.Millisecond, func(int) error {
		if calls.Add(1) > 100 {
			panic("paced at rate 0 runs operations without end")
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "rate") || calls.Load() != 0 {
		t.Fatalf("paced at rate 0: %v after %d operations; want an error naming the rate, none run", err, calls.Load())
	}
}
