package bench

import (
	"math"
	"testing"
)

// The closed loop's figure only guesses the bound of the search: a
// service that keeps up with more than that is found to, rather than
// reported at the guess.
func TestHighestKeptUp_looks_above_the_guess_when_the_guess_is_kept_up_with(t *testing.T) {
	for _, c := range []struct{ guess, capacity float64 }{
		{400, 300}, // below the guess: found as before
		{400, 500}, // above it
		{400, 1100},
	} {
		probes := 0
		got, err := highestKeptUp(c.guess, func(rate float64) (bool, error) {
			probes++
			return rate <= c.capacity, nil
		})
		if err != nil {
			t.Fatalf("capacity %v: %v", c.capacity, err)
		}
		if got > c.capacity || got < c.capacity*(1-1.0/16) {
			t.Errorf("guess %v, capacity %v: found %v after %d probes", c.guess, c.capacity, got, probes)
		}
	}
}

// A service that keeps up with no rate tried has no steady rate: the
// search says so, where it answered 0/s, and the live measure then
// paced at 0/s.
func TestHighestKeptUp_fails_when_no_rate_is_kept_up_with(t *testing.T) {
	got, err := highestKeptUp(400, func(float64) (bool, error) { return false, nil })
	if err == nil || got != 0 || math.IsNaN(got) {
		t.Fatalf("no rate kept up with: %v, %v; want an error", got, err)
	}
}
