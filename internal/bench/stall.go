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

// slowestTogether counts the slowest 1% of the reads (those at or above
// the p99), and how many of them began within the one stallWindow that
// holds the most. On this machine an fsync now and then takes 60-80 ms
// under load; every command waits for it, and every projector waits for
// the commands before it in the log: a share near all of them is one
// such stall deciding the p99.
func (t *timedReads) slowestTogether() (slow, together int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.reads) == 0 {
		return 0, 0
	}
	took := make([]time.Duration, len(t.reads))
	for i, r := range t.reads {
		took[i] = r.took
	}
	slices.Sort(took)
	p99 := took[int(0.99*float64(len(took)-1))]
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

// report prints what slowestTogether finds.
func (t *timedReads) report(what string) string {
	slow, together := t.slowestTogether()
	return fmt.Sprintf("%s: of the slowest 1%% (%d reads), %d began within one %v", what, slow, together, stallWindow)
}
