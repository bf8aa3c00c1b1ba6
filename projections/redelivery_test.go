package projections

import (
	"testing"
	"time"
)

// A batch that keeps failing is delivered again after a pause that
// doubles, from RetryDelay up to 25 times it: every 200 ms for good, a
// consumer whose broker was away for an hour logged its error five times
// a second.
func TestFeed_pauses_longer_between_deliveries_of_a_batch_that_keeps_failing(t *testing.T) {
	f := &Feed{RetryDelay: 200 * time.Millisecond}
	var got []time.Duration
	for p := f.RetryDelay; len(got) < 8; p = f.longer(p) {
		got = append(got, p)
	}
	want := []time.Duration{200, 400, 800, 1600, 3200, 5000, 5000, 5000}
	for i, w := range want {
		if got[i] != w*time.Millisecond {
			t.Fatalf("pauses %v, want %v ms", got, want)
		}
	}
}
