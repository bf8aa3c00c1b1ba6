package bench

import (
	"testing"
	"time"
)

// The slowest reads are counted at the p99, and those that began within
// one window are found wherever the window falls.
func TestTimedReads_counts_the_slowest_that_came_together(t *testing.T) {
	var reads timedReads
	start := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	for i := range 980 {
		reads.add(at(10*i), time.Millisecond)
	}
	for i := range 15 { // a stall: 15 slow reads in 150 ms
		reads.add(at(5000+10*i), 50*time.Millisecond)
	}
	for i := range 5 { // and 5 more, seconds apart
		reads.add(at(500+2000*i), 60*time.Millisecond)
	}
	if slow, together := reads.slowestTogether(reads.summary().P99); slow != 20 || together != 15 {
		t.Fatalf("slowest %d, %d together; want 20, 15 together", slow, together)
	}
	var none timedReads
	if slow, together := none.slowestTogether(none.summary().P99); slow != 0 || together != 0 {
		t.Fatalf("no reads: %d, %d", slow, together)
	}
}
