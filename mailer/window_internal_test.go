package mailer

import (
	"slices"
	"testing"
	"time"
)

// The window starts at one, doubles after quick sends up to
// ClaimsPerCommit, goes back to one after a slow send, and starts over
// after windowIdle without a send.
func TestWindow_doubles_while_quick_and_starts_over_when_slow_or_idle(t *testing.T) {
	var w window
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var got []int
	step := func(slow bool) {
		got = append(got, w.size(at))
		w.sent(at, slow)
		at = at.Add(time.Second)
	}
	for range 6 {
		step(false)
	}
	step(true)
	step(false)
	step(false)
	at = at.Add(windowIdle)
	step(false)
	got = append(got, w.size(at))
	want := []int{1, 2, 4, 8, 16, 16, 16, 1, 2, 1, 2}
	if !slices.Equal(got, want) {
		t.Errorf("window sizes %v, want %v", got, want)
	}
}
