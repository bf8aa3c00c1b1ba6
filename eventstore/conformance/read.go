package conformance

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
)

const timeout = 30 * time.Second

func contextCancelled() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx, cancel
}

func testReadStream(t *testing.T, newStore Factory) {
	s := newStore(t)
	f := newFixture()
	stream := f.stream("r")
	written := f.events(5, "read")
	res := mustAppend(t, s, stream, eventstore.NoStream(), written)

	t.Run("forwards returns every event as written", func(t *testing.T) {
		evs, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != len(written) {
			t.Fatalf("read %d events, want %d", len(evs), len(written))
		}
		for i, e := range evs {
			w := written[i]
			if e.ID != w.ID || e.Type != w.Type || e.Stream != stream || e.Revision != uint64(i) {
				t.Fatalf("event %d = %s %s %s@%d, want %s %s %s@%d", i, e.ID, e.Type, e.Stream, e.Revision, w.ID, w.Type, stream, i)
			}
			if !bytes.Equal(e.Data, w.Data) || !bytes.Equal(e.Metadata, w.Metadata) {
				t.Fatalf("event %d data %s meta %s, want %s %s", i, e.Data, e.Metadata, w.Data, w.Metadata)
			}
			if e.RecordedAt.IsZero() {
				t.Fatalf("event %d has no recorded time", i)
			}
			if i > 0 && !evs[i-1].Position.Less(e.Position) {
				t.Fatalf("event %d position %v not after %v", i, e.Position, evs[i-1].Position)
			}
		}
		if evs[4].Position != res.Position {
			t.Fatalf("last event at %v, append said %v", evs[4].Position, res.Position)
		}
	})

	t.Run("forwards from a revision with a limit", func(t *testing.T) {
		evs, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{From: 2, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if revisions(evs) != "2,3" {
			t.Fatalf("read revisions %s, want 2,3", revisions(evs))
		}
	})

	t.Run("backwards from the end", func(t *testing.T) {
		evs, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, FromEnd: true, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if revisions(evs) != "4,3,2" {
			t.Fatalf("read revisions %s, want 4,3,2", revisions(evs))
		}
	})

	t.Run("forwards from the end is the last event", func(t *testing.T) {
		evs, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{FromEnd: true})
		if err != nil {
			t.Fatal(err)
		}
		if revisions(evs) != "4" {
			t.Fatalf("read revisions %s, want 4", revisions(evs))
		}
	})

	t.Run("backwards from a revision", func(t *testing.T) {
		evs, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: 1})
		if err != nil {
			t.Fatal(err)
		}
		if revisions(evs) != "1,0" {
			t.Fatalf("read revisions %s, want 1,0", revisions(evs))
		}
	})

	t.Run("past the end is empty", func(t *testing.T) {
		evs, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{From: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 0 {
			t.Fatalf("read %d events past the end", len(evs))
		}
	})

	t.Run("a missing stream is not found", func(t *testing.T) {
		_, err := s.ReadStream(ctxFor(t, timeout), f.stream("nothing"), eventstore.ReadStreamOptions{})
		if !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatalf("want ErrStreamNotFound, got %v", err)
		}
	})
}

func revisions(evs []eventstore.RecordedEvent) string {
	var b []byte
	for i, e := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, []byte(itoa(e.Revision))...)
	}
	return string(b)
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var d []byte
	for n > 0 {
		d = append([]byte{byte('0' + n%10)}, d...)
		n /= 10
	}
	return string(d)
}

// readAllOf reads the whole log and returns the order of streams a and b's
// events in it, as "a0b0…", checking the log's own order on the way.
func readAllOf(t *testing.T, s eventstore.Store, a, b string) string {
	t.Helper()
	var ours []eventstore.RecordedEvent
	after := eventstore.Start
	for {
		page, err := s.ReadAll(ctxFor(t, timeout), after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for i, e := range page {
			if !after.Less(e.Position) {
				t.Fatalf("read all after %v returned %v", after, e.Position)
			}
			if i > 0 && !page[i-1].Position.Less(e.Position) {
				t.Fatalf("read all out of order: %v then %v", page[i-1].Position, e.Position)
			}
			if len(e.Type) > 0 && e.Type[0] == '$' {
				t.Fatalf("read all returned system event %s", e.Type)
			}
			if e.Stream == a || e.Stream == b {
				ours = append(ours, e)
			}
		}
		after = page[len(page)-1].Position
	}
	got := ""
	for _, e := range ours {
		if e.Stream == a {
			got += "a" + itoa(e.Revision)
		} else {
			got += "b" + itoa(e.Revision)
		}
	}
	return got
}

func testReadAll(t *testing.T, newStore Factory) {
	s := newStore(t)
	f := newFixture()
	a, b := f.stream("a"), f.stream("b")
	first := mustAppend(t, s, a, eventstore.NoStream(), f.events(2, "all"))
	mustAppend(t, s, b, eventstore.NoStream(), f.events(1, "all"))
	mustAppend(t, s, a, eventstore.Exact(1), f.events(1, "all"))

	// ReadAll returns only what is final: it may hold back events behind a
	// transaction still in flight anywhere on the server, so read until
	// ours are all there (bounded).
	var got string
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = readAllOf(t, s, a, b)
		if got == "a0a1b0a2" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got != "a0a1b0a2" {
		t.Fatalf("log order %s, want a0a1b0a2", got)
	}

	// Reading after the first append's position starts at the next event.
	page, err := s.ReadAll(ctxFor(t, timeout), first.Position, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].Stream != b {
		t.Fatalf("read after %v gave %+v, want stream b's first event", first.Position, page)
	}
}
