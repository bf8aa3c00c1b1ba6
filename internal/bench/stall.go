package bench

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// timedReads are the reads of a paced measure, each with when it began,
// so that a report can tell a stall of the machine from the service's
// usual pace.
type timedReads struct {
	mu    sync.Mutex
	reads []timedRead
}

type timedRead struct {
	began time.Time
	took  time.Duration
}

func (t *timedReads) add(began time.Time, took time.Duration) {
	t.mu.Lock()
	t.reads = append(t.reads, timedRead{began, took})
	t.mu.Unlock()
}

// stallWindow is the span the slowest reads are gathered in.
const stallWindow = 200 * time.Millisecond

// summary is the distribution of how long the reads took.
func (t *timedReads) summary() Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	var l Latencies
	for _, r := range t.reads {
		l.d = append(l.d, r.took)
	}
	return l.Summary()
}

// slowestTogether counts the reads that took p99 or longer (the slowest
// 1%), and how many of them began within the one stallWindow that holds
// the most. On this machine an fsync now and then takes 60-80 ms under
// load; every command waits for it, and every projector waits for the
// commands before it in the log: a share near all of them is one such
// stall deciding the p99.
func (t *timedReads) slowestTogether(p99 time.Duration) (slow, together int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var began []time.Time
	for _, r := range t.reads {
		if r.took >= p99 {
			began = append(began, r.began)
		}
	}
	slices.SortFunc(began, func(a, b time.Time) int { return a.Compare(b) })
	for i, j := 0, 0; j < len(began); j++ {
		for began[j].Sub(began[i]) > stallWindow {
			i++
		}
		together = max(together, j-i+1)
	}
	return len(began), together
}

// report prints what slowestTogether finds for the reads' p99.
func (t *timedReads) report(what string, p99 time.Duration) string {
	slow, together := t.slowestTogether(p99)
	return fmt.Sprintf("%s: of the slowest 1%% (%d reads), %d began within one %v", what, slow, together, stallWindow)
}
