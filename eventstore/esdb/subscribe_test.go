package esdb

import (
	"errors"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
)

// A consumer whose filter matches nothing still learns how far the log was
// read, and resuming from that checkpoint skips nothing it wants.
func TestSubscribe_reports_checkpoints_while_nothing_matches(t *testing.T) {
	s := fakeStore(t)
	wanted, noise := newNames(), newNames()
	sub := mustSubscribe(t, s, eventstore.Start, wanted.filter())
	stream := noise.stream("noise")
	first := mustAppend(t, s, stream, eventstore.NoStream(), noise.events(1, "x"))
	mustAppend(t, s, stream, eventstore.Exact(0), noise.events(99, "x"))

	// The server checkpoints at the end of the catch-up, then every 32
	// events considered.
	var checkpoint eventstore.Position
	for i := 0; i < 3 || !first.Position.Less(checkpoint); i++ {
		m := next(t, sub, 10*time.Second)
		if m.Event != nil {
			t.Fatalf("got event %s, the filter matches nothing", m.Event.Type)
		}
		if !checkpoint.Less(m.Checkpoint) {
			t.Fatalf("checkpoint %v does not advance past %v", m.Checkpoint, checkpoint)
		}
		checkpoint = m.Checkpoint
	}

	resumed := mustSubscribe(t, s, checkpoint, wanted.filter())
	mustAppend(t, s, wanted.stream("wanted"), eventstore.NoStream(), wanted.events(1, "x"))
	if got := nextEvents(t, resumed, 1, 10*time.Second); got[0].Type != wanted.eventType("x") {
		t.Fatalf("resumed subscription got %s", got[0].Type)
	}
}

func TestSubscribe_without_prefixes_leaves_out_system_events(t *testing.T) {
	s, n := fakeStore(t), newNames()
	appendSystem(t, s, "$sys-"+n.prefix, 1)
	stream := n.stream("app")
	mustAppend(t, s, stream, eventstore.NoStream(), n.events(1, "x"))

	sub := mustSubscribe(t, s, eventstore.Start, eventstore.Filter{})
	if got := nextEvents(t, sub, 1, 10*time.Second); got[0].Stream != stream {
		t.Fatalf("first event is %s in %s, want the application event", got[0].Type, got[0].Stream)
	}
}

func TestSubscribe_ends_when_the_store_closes(t *testing.T) {
	s := fakeStore(t)
	sub := mustSubscribe(t, s, eventstore.Start, newNames().filter())
	_ = s.Close()
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := sub.Recv(); err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if !errors.Is(err, eventstore.ErrSubscriptionClosed) {
			t.Fatalf("Recv after the store closed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Recv still blocked 10s after the store closed")
	}
}
