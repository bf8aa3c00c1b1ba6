package conformance

import (
	"errors"
	"testing"

	"github.com/bizcenter/bizcenter/eventstore"
)

func testAppend(t *testing.T, newStore Factory) {
	s := newStore(t)
	f := newFixture()

	t.Run("no stream creates the stream at revision 0", func(t *testing.T) {
		stream := f.stream("a")
		res := mustAppend(t, s, stream, eventstore.NoStream(), f.events(1, "created"))
		if res.NextRevision != 0 {
			t.Fatalf("next revision %d, want 0", res.NextRevision)
		}
		if res.Position.IsZero() {
			t.Fatal("append returned the start position")
		}
		_, err := s.Append(ctxFor(t, timeout), stream, eventstore.NoStream(), f.events(1, "created"))
		wantWrongRevision(t, err, stream, rev(0))
	})

	t.Run("a batch gets contiguous revisions and increasing positions", func(t *testing.T) {
		stream := f.stream("b")
		first := mustAppend(t, s, stream, eventstore.NoStream(), f.events(3, "x"))
		if first.NextRevision != 2 {
			t.Fatalf("next revision %d, want 2", first.NextRevision)
		}
		second := mustAppend(t, s, stream, eventstore.Exact(2), f.events(2, "x"))
		if second.NextRevision != 4 {
			t.Fatalf("next revision %d, want 4", second.NextRevision)
		}
		if !first.Position.Less(second.Position) {
			t.Fatalf("position %v not after %v", second.Position, first.Position)
		}
	})

	t.Run("exact revision must match", func(t *testing.T) {
		stream := f.stream("c")
		mustAppend(t, s, stream, eventstore.NoStream(), f.events(2, "x"))
		_, err := s.Append(ctxFor(t, timeout), stream, eventstore.Exact(0), f.events(1, "x"))
		wantWrongRevision(t, err, stream, rev(1))
		_, err = s.Append(ctxFor(t, timeout), stream, eventstore.Exact(5), f.events(1, "x"))
		wantWrongRevision(t, err, stream, rev(1))
		_, err = s.Append(ctxFor(t, timeout), f.stream("missing"), eventstore.Exact(0), f.events(1, "x"))
		if err == nil {
			t.Fatal("exact revision on a missing stream succeeded")
		}
		mustAppend(t, s, stream, eventstore.Exact(1), f.events(1, "x"))
	})

	t.Run("stream exists needs a stream", func(t *testing.T) {
		missing := f.stream("d")
		_, err := s.Append(ctxFor(t, timeout), missing, eventstore.StreamExists(), f.events(1, "x"))
		wantWrongRevision(t, err, missing, nil)
		mustAppend(t, s, missing, eventstore.Any(), f.events(1, "x"))
		res := mustAppend(t, s, missing, eventstore.StreamExists(), f.events(1, "x"))
		if res.NextRevision != 1 {
			t.Fatalf("next revision %d, want 1", res.NextRevision)
		}
	})

	t.Run("no events, or an event without a type or with a $ type, is refused", func(t *testing.T) {
		stream := f.stream("typeless")
		typed := func(types ...string) []eventstore.EventData {
			events := f.events(len(types), "x")
			for i, t := range types {
				events[i].Type = t
			}
			return events
		}
		for _, batch := range [][]eventstore.EventData{nil, typed(""), typed(f.eventType("x"), "$metadata")} {
			if _, err := s.Append(ctxFor(t, timeout), stream, eventstore.Any(), batch); err == nil {
				t.Fatalf("appended %d events typed %v", len(batch), types(batch))
			}
		}
		if _, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatalf("after refused appends the stream reads %v", err)
		}
	})

	// EventStoreDB keeps $ streams for its own ($$name holds the metadata
	// of name, which can truncate it): no store writes one.
	t.Run("a stream whose name starts with $ is refused", func(t *testing.T) {
		stream := "$" + f.stream("system")
		if _, err := s.Append(ctxFor(t, timeout), stream, eventstore.Any(), f.events(1, "x")); err == nil {
			t.Fatalf("appended to %s", stream)
		}
		if _, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatalf("after a refused append the stream reads %v", err)
		}
	})

	t.Run("any appends whatever the stream holds", func(t *testing.T) {
		stream := f.stream("e")
		mustAppend(t, s, stream, eventstore.Any(), f.events(1, "x"))
		res := mustAppend(t, s, stream, eventstore.Any(), f.events(1, "x"))
		if res.NextRevision != 1 {
			t.Fatalf("next revision %d, want 1", res.NextRevision)
		}
	})

	t.Run("a retried append with the same ids writes nothing", func(t *testing.T) {
		stream := f.stream("f")
		mustAppend(t, s, stream, eventstore.NoStream(), f.events(1, "x"))
		batch := f.events(2, "x")
		first := mustAppend(t, s, stream, eventstore.Exact(0), batch)
		again := mustAppend(t, s, stream, eventstore.Exact(0), batch)
		if again != first {
			t.Fatalf("retry answered %+v, first answer %+v", again, first)
		}
		evs, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 3 {
			t.Fatalf("stream holds %d events after a retry, want 3", len(evs))
		}

		created := f.stream("g")
		batch = f.events(1, "x")
		first = mustAppend(t, s, created, eventstore.NoStream(), batch)
		again = mustAppend(t, s, created, eventstore.NoStream(), batch)
		if again != first {
			t.Fatalf("retried creation answered %+v, first answer %+v", again, first)
		}
	})

	t.Run("a failed append writes nothing", func(t *testing.T) {
		stream := f.stream("h")
		mustAppend(t, s, stream, eventstore.NoStream(), f.events(1, "x"))
		_, err := s.Append(ctxFor(t, timeout), stream, eventstore.Exact(7), f.events(3, "x"))
		wantWrongRevision(t, err, stream, rev(0))
		evs, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 {
			t.Fatalf("stream holds %d events, want 1", len(evs))
		}
	})

	// EventStoreDB writes a no-stream batch that repeats an id and then
	// answers it as a conflict, so the caller must never send one.
	t.Run("an append that repeats an id fails and writes nothing", func(t *testing.T) {
		stream := f.stream("j")
		batch := f.events(1, "x")
		batch = append(batch, batch[0])
		if _, err := s.Append(ctxFor(t, timeout), stream, eventstore.NoStream(), batch); err == nil {
			t.Fatal("an append that repeats an id succeeded")
		}
		_, err := s.ReadStream(ctxFor(t, timeout), stream, eventstore.ReadStreamOptions{})
		if !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatalf("read the stream after the failed append: %v, want ErrStreamNotFound", err)
		}
	})

	t.Run("a cancelled context stops the call", func(t *testing.T) {
		ctx, cancel := contextCancelled()
		defer cancel()
		if _, err := s.Append(ctx, f.stream("i"), eventstore.Any(), f.events(1, "x")); err == nil {
			t.Fatal("append with a cancelled context succeeded")
		}
	})
}

func types(events []eventstore.EventData) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}
