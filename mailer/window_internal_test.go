package mailer

import (
	"slices"
	"testing"
	"time"
)

// The window starts at one, doubles after quick sends up to
// ClaimsPerCommit (also after a commit longer than windowIdle: its sends
// were quick, only many), goes back to one after a slow send, and starts
// over after windowIdle without a send.
func TestWindow_doubles_while_quick_and_starts_over_when_slow_or_idle(t *testing.T) {
	var w window
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var got []int
	step := func(took time.Duration, slow bool) {
		size := w.size(at)
		got = append(got, size)
		at = at.Add(took)
		w.sent(at, size, slow)
	}
	for range 4 {
		step(time.Second, false)
	}
	step(2*windowIdle, false) // sixteen quick sends may take that long
	step(time.Second, false)
	step(time.Second, true)
	step(time.Second, false)
	step(time.Second, false)
	at = at.Add(windowIdle + time.Second)
	step(time.Second, false)
	got = append(got, w.size(at))
	want := []int{1, 2, 4, 8, 16, 16, 16, 1, 2, 1, 2}
	if !slices.Equal(got, want) {
		t.Errorf("window sizes %v, want %v", got, want)
	}
}
