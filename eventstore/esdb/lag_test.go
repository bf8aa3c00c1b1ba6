package esdb

import (
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Lag finds the head past the server's own events, counts what lies after
// a position up to lagCap, and says when the first of it was recorded.
func TestLag_counts_application_events_after_a_position(t *testing.T) {
	s, n := fakeStore(t), newNames()
	ctx := testCtx(t, time.Minute)
	head, events, oldest, err := s.Lag(ctx, eventstore.Start)
	if err != nil || !head.IsZero() || events != 0 || !oldest.IsZero() {
		t.Fatalf("a log of system events only: head %s, %d events, oldest %v (%v); want none", head, events, oldest, err)
	}

	before := time.Now().Add(-time.Minute)
	first := mustAppend(t, s, n.stream("a"), eventstore.NoStream(), n.events(1, "x"))
	last := mustAppend(t, s, n.stream("b"), eventstore.NoStream(), n.events(2, "x"))
	// Server events after the last application one: the head is still it.
	appendSystem(t, s, "$noise-"+n.prefix, 2*headPage)

	head, events, oldest, err = s.Lag(ctx, eventstore.Start)
	if err != nil || head != last.Position || events != 3 || oldest.Before(before) || oldest.After(time.Now()) {
		t.Fatalf("from the start: head %s, %d events, oldest %v (%v); want %s, 3, recorded just now", head, events, oldest, err, last.Position)
	}
	if _, events, _, err = s.Lag(ctx, first.Position); err != nil || events != 2 {
		t.Fatalf("after the first: %d events (%v), want 2", events, err)
	}
	if _, events, oldest, err = s.Lag(ctx, last.Position); err != nil || events != 0 || !oldest.IsZero() {
		t.Fatalf("at the head: %d events, oldest %v (%v); want none", events, oldest, err)
	}

	mustAppend(t, s, n.stream("many"), eventstore.NoStream(), n.events(lagCap+5, "x"))
	if _, events, _, err = s.Lag(ctx, eventstore.Start); err != nil || events != lagCap {
		t.Fatalf("far behind: %d events (%v), want the cap, %d", events, err, lagCap)
	}
}
