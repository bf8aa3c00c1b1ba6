package esdb

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
)

// The fake starts with system events, as a real node does, and this test
// adds one between application events.
func TestReadAll_is_exclusive_and_skips_system_events(t *testing.T) {
	s := fakeStore(t)
	ctx := testCtx(t, 10*time.Second)

	if evs, err := s.ReadAll(ctx, eventstore.Start, 10); err != nil || len(evs) != 0 {
		t.Fatalf("a fresh server read %d events (%v), want none: system events leak", len(evs), err)
	}
	n := newNames()
	stream := n.stream("ra")
	first := mustAppend(t, s, stream, eventstore.NoStream(), n.events(1, "x"))
	appendSystem(t, s, "$sys-"+stream, 1)
	last := mustAppend(t, s, stream, eventstore.Exact(0), n.events(2, "x"))

	page, err := s.ReadAll(ctx, first.Position, 2)
	if err != nil {
		t.Fatal(err)
	}
	if revisions(page) != "1,2" {
		t.Fatalf("read after the first event gave revisions %s, want 1,2", revisions(page))
	}
	if page, _ := s.ReadAll(ctx, eventstore.Start, 1); len(page) != 1 || page[0].Position != first.Position {
		t.Fatalf("read from the start gave %+v, want the first event", page)
	}
	if page, _ := s.ReadAll(ctx, last.Position, 10); len(page) != 0 {
		t.Fatalf("read after the last event gave %d events", len(page))
	}
}

// Runs of system events longer than a page must not end the read early.
func TestReadAll_fills_the_page_past_many_system_events(t *testing.T) {
	s, n := fakeStore(t), newNames()
	appendSystem(t, s, "$noise-"+n.prefix, 3*minPage)
	stream := n.stream("after")
	mustAppend(t, s, stream, eventstore.NoStream(), n.events(3, "x"))

	page, err := s.ReadAll(testCtx(t, 10*time.Second), eventstore.Start, 2)
	if err != nil {
		t.Fatal(err)
	}
	if revisions(page) != "0,1" || page[0].Stream != stream {
		t.Fatalf("read gave %s, want %s revisions 0,1", revisions(page), stream)
	}
}

// The server's own streams ($users, $user-admin with its password hash,
// the links of $ce- and $et- streams, whose data is no JSON) are no
// stream of the application's: reading one is not found, as ReadAll and
// subscriptions leave their events out.
func TestReadStream_of_the_servers_own_stream_is_not_found(t *testing.T) {
	s, n := fakeStore(t), newNames()
	written := "$stats-" + n.prefix
	appendSystem(t, s, written, 1)
	for _, stream := range []string{"$users", written} {
		evs, err := s.ReadStream(testCtx(t, 10*time.Second), stream, eventstore.ReadStreamOptions{})
		if !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Errorf("read %s: %d events (%v), want ErrStreamNotFound", stream, len(evs), err)
		}
	}
}

func TestReadStream_forwards_from_the_end_is_the_last_event(t *testing.T) {
	s, n := fakeStore(t), newNames()
	stream := n.stream("end")
	mustAppend(t, s, stream, eventstore.NoStream(), n.events(3, "x"))
	evs, err := s.ReadStream(testCtx(t, 10*time.Second), stream, eventstore.ReadStreamOptions{FromEnd: true})
	if err != nil {
		t.Fatal(err)
	}
	if revisions(evs) != "2" {
		t.Fatalf("read revisions %s, want 2", revisions(evs))
	}
}

func revisions(evs []eventstore.RecordedEvent) string {
	var b []byte
	for i, e := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, e.Revision, 10)
	}
	return string(b)
}

// A position inside the log that no event has is refused by the server
// (InvalidArgument, which the client reports as unknown): ReadAll,
// Subscribe and Lag say so as eventstore.ErrInvalidPosition, and the
// subscription is not reopened for ever from it.
func TestReadAll_and_Subscribe_refuse_a_position_no_event_has(t *testing.T) {
	s := fakeStore(t, WithReconnectBackoff(time.Millisecond, 5*time.Millisecond))
	ctx := testCtx(t, 10*time.Second)
	n := newNames()
	stream := n.stream("ip")
	first := mustAppend(t, s, stream, eventstore.NoStream(), n.events(1, "x"))
	mustAppend(t, s, stream, eventstore.Exact(0), n.events(1, "x"))
	inside := eventstore.Position{Commit: first.Position.Commit + 1, Prepare: first.Position.Prepare + 1}

	if _, err := s.ReadAll(ctx, inside, 10); !errors.Is(err, eventstore.ErrInvalidPosition) {
		t.Errorf("read all after %v: %v, want ErrInvalidPosition", inside, err)
	}
	if _, _, _, err := s.Lag(ctx, inside); !errors.Is(err, eventstore.ErrInvalidPosition) {
		t.Errorf("lag after %v: %v, want ErrInvalidPosition", inside, err)
	}
	sub, err := s.Subscribe(ctx, inside, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Recv(); !errors.Is(err, eventstore.ErrInvalidPosition) {
		t.Errorf("subscription after %v: %v, want ErrInvalidPosition", inside, err)
	}
}
