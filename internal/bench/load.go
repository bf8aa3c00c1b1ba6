package bench

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Latencies collects durations from many goroutines.
type Latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

// Add records one duration.
func (l *Latencies) Add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// Summary is a distribution of latencies.
type Summary struct {
	N             int
	P50, P99, Max time.Duration
}

// Summary sorts what was recorded.
func (l *Latencies) Summary() Summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return Summary{}
	}
	slices.Sort(l.d)
	return Summary{N: len(l.d), P50: percentile(l.d, 50), P99: percentile(l.d, 99), Max: l.d[len(l.d)-1]}
}

// percentile is the pth percentile of sorted by nearest rank: the least
// duration that at least p% of them are at most. Indexing at p% of n-1,
// as it once did, fell a rank short whenever p% of n was no whole number:
// the p99 of 150 reads was one that only 148 were at most, and of fewer
// than 100 never the slowest. Integers, so that no rounding moves a rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

func (s Summary) String() string {
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", s.N, s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond), s.Max.Round(time.Microsecond))
}

// Throughput is a closed-loop measure: operations a second and how long
// each took.
type Throughput struct {
	Rate    float64
	Latency Summary
}

// firstErr keeps the first error of many goroutines.
type firstErr struct {
	once sync.Once
	err  error
}

func (f *firstErr) set(err error) { f.once.Do(func() { f.err = err }) }

// closedLoop calls op from workers goroutines, back to back, for d, and
// stops at the first error.
func closedLoop(workers int, d time.Duration, op func(worker, i int) error) (Throughput, error) {
	var lat Latencies
	var failed firstErr
	stop := make(chan struct{})
	var stopOnce sync.Once
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				select {
				case <-stop:
					return
				default:
				}
				began := time.Now()
				if err := op(w, i); err != nil {
					failed.set(err)
					stopOnce.Do(func() { close(stop) })
					return
				}
				lat.Add(time.Since(began))
			}
		})
	}
	wg.Wait()
	s := lat.Summary()
	// Operations still running at the deadline finish and count, so the
	// rate is over the time until the last one ended.
	return Throughput{Rate: float64(s.N) / time.Since(start).Seconds(), Latency: s}, failed.err
}

// paced starts op at rate a second for d, each in its own goroutine at its
// scheduled time whether or not earlier ones finished (an open loop), and
// waits for them all. It returns the first error.
func paced(rate float64, d time.Duration, op func(i int) error) error {
	// At no rate the interval is infinite, which as a Duration is
	// negative: every operation was due at once, without end.
	if !(rate > 0) {
		return fmt.Errorf("paced at rate %v/s: the rate must be above 0", rate)
	}
	var failed firstErr
	var wg sync.WaitGroup
	start := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(at))
		wg.Go(func() {
			if err := op(i); err != nil {
				failed.set(err)
			}
		})
	}
	wg.Wait()
	return failed.err
}
