package mailer

import (
	"testing"
	"time"
)

// The pause before the next look at a relay that stays away doubles up
// to a minute, and starts again once an email went out.
func TestPutBack_pause_doubles_to_a_minute_and_starts_again_after_a_send(t *testing.T) {
	var b putBack
	var got []time.Duration
	for range 9 {
		got = append(got, b.pause(time.Second))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i, w := range want {
		if got[i] != w*time.Second {
			t.Fatalf("pauses %v, want %v seconds", got, want)
		}
	}
	b.sent()
	if d := b.pause(time.Second); d != time.Second {
		t.Fatalf("after a send: %v, want 1s", d)
	}
}
