package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
)

// collector drains a subscription into a channel so tests can wait with a
// deadline instead of sleeping.
type collector struct {
	events chan eventstore.RecordedEvent
	done   chan error
}

func collect(sub eventstore.Subscription) *collector {
	// Room for the concurrent-writers test's events, so that a subscriber
	// keeps up with the writers rather than waiting for the test to take.
	c := &collector{events: make(chan eventstore.RecordedEvent, 16384), done: make(chan error, 1)}
	go func() {
		for {
			m, err := sub.Recv()
			if err != nil {
				c.done <- err
				close(c.events)
				return
			}
			if m.Event != nil {
				c.events <- *m.Event
			}
		}
	}()
	return c
}

// take waits, bounded, for n events.
func (c *collector) take(t *testing.T, n int, within time.Duration) []eventstore.RecordedEvent {
	t.Helper()
	out := make([]eventstore.RecordedEvent, 0, n)
	deadline := time.After(within)
	for len(out) < n {
		select {
		case e, ok := <-c.events:
			if !ok {
				t.Fatalf("subscription ended after %d of %d events: %v", len(out), n, <-c.done)
			}
			out = append(out, e)
		case <-deadline:
			t.Fatalf("received %d of %d events within %v", len(out), n, within)
		}
	}
	return out
}

// quiet asserts no further event arrives for a while.
func (c *collector) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case e := <-c.events:
		t.Fatalf("unexpected extra event %s %s@%d", e.Type, e.Stream, e.Revision)
	case <-time.After(d):
	}
}

func testSubscribe(t *testing.T, newStore Factory) {
	s := newStore(t)
	f := newFixture()
	stream := f.stream("s")
	before := mustAppend(t, s, stream, eventstore.NoStream(), f.events(3, "sub"))

	t.Run("catches up then goes live", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sub, err := s.Subscribe(ctx, eventstore.Start, f.filter())
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		c := collect(sub)
		old := c.take(t, 3, 20*time.Second)
		if revisions(old) != "0,1,2" {
			t.Fatalf("caught up revisions %s, want 0,1,2", revisions(old))
		}
		mustAppend(t, s, stream, eventstore.Exact(2), f.events(2, "sub"))
		live := c.take(t, 2, 10*time.Second)
		if revisions(live) != "3,4" {
			t.Fatalf("live revisions %s, want 3,4", revisions(live))
		}
		c.quiet(t, 200*time.Millisecond)
	})

	t.Run("starts strictly after the given position", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sub, err := s.Subscribe(ctx, before.Position, f.filter())
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		got := collect(sub).take(t, 2, 20*time.Second)
		if revisions(got) != "3,4" {
			t.Fatalf("revisions %s, want 3,4", revisions(got))
		}
	})

	t.Run("filters by type prefix", func(t *testing.T) {
		other := newFixture()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		sub, err := s.Subscribe(ctx, before.Position, other.filter())
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		c := collect(sub)
		mustAppend(t, s, f.stream("noise"), eventstore.NoStream(), f.events(3, "noise"))
		mustAppend(t, s, other.stream("wanted"), eventstore.NoStream(), other.events(1, "wanted"))
		got := c.take(t, 1, 20*time.Second)
		if got[0].Type != other.eventType("wanted") {
			t.Fatalf("got %s, want only %s", got[0].Type, other.eventType("wanted"))
		}
	})

	t.Run("ends with the context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		sub, err := s.Subscribe(ctx, eventstore.Start, f.filter())
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		c := collect(sub)
		c.take(t, 5, 20*time.Second)
		cancel()
		select {
		case err := <-c.done:
			if err == nil {
				t.Fatal("subscription ended without an error")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("subscription still running 10s after its context ended")
		}
	})

	t.Run("close ends Recv", func(t *testing.T) {
		sub, err := s.Subscribe(context.Background(), eventstore.Start, f.filter())
		if err != nil {
			t.Fatal(err)
		}
		c := collect(sub)
		c.take(t, 5, 20*time.Second)
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-c.done:
			if !errors.Is(err, eventstore.ErrSubscriptionClosed) && !errors.Is(err, context.Canceled) {
				t.Fatalf("Recv after Close: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Recv still blocked 10s after Close")
		}
	})
}

// testConcurrentWriters proves the subscriber never skips an event whose
// transaction commits after a later-numbered one: 8 writers append while a
// live subscriber runs, and it must see each event exactly once, in order.
func testConcurrentWriters(t *testing.T, newStore Factory, total int) {
	s := newStore(t)
	f := newFixture()
	const writers = 8
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// Subscribers that start while the writers run catch up behind the
	// first one (which is at the head all along) and must reach it.
	var appended atomic.Int64
	subscribe := func() *collector {
		sub, err := s.Subscribe(ctx, eventstore.Start, f.filter())
		if err != nil {
			t.Error(err)
			return nil
		}
		t.Cleanup(func() { _ = sub.Close() })
		return collect(sub)
	}
	collectors := []*collector{subscribe()}
	late := make(chan *collector, 3)
	go func() {
		defer close(late)
		for i := int64(1); i <= 3; i++ {
			for appended.Load() < i*int64(total)/4 && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			late <- subscribe()
		}
	}()

	// Each writer appends to several streams in batches of one to three
	// events, so transactions of different sizes interleave.
	want := make(map[uuid.UUID]string, total)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			streams := []string{f.stream(fmt.Sprintf("w%d", w)), f.stream(fmt.Sprintf("w%d", w))}
			next := []*uint64{nil, nil}
			for i := 0; i < total/writers; {
				k := i % 2
				n := 1 + i%3
				if i+n > total/writers {
					n = total/writers - i
				}
				evs := f.events(n, "conc")
				mu.Lock()
				for _, e := range evs {
					want[e.ID] = streams[k]
				}
				mu.Unlock()
				res, err := s.Append(ctx, streams[k], eventstore.Revision(next[k]), evs)
				if err != nil {
					errs <- err
					return
				}
				r := res.NextRevision
				next[k] = &r
				i += n
				appended.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	expected := writers * (total / writers)

	for c := range late {
		collectors = append(collectors, c)
	}
	for i, c := range collectors {
		if c == nil {
			t.FailNow()
		}
		got := c.take(t, expected, time.Minute)
		c.quiet(t, 300*time.Millisecond)
		if err := inLogOrder(got, want); err != nil {
			t.Fatalf("subscriber %d: %v", i, err)
		}
	}
}

// inLogOrder checks that a subscriber got each appended event once, from
// its stream, in increasing positions and, per stream, revisions.
func inLogOrder(got []eventstore.RecordedEvent, want map[uuid.UUID]string) error {
	seen := make(map[uuid.UUID]bool, len(got))
	lastRev := map[string]int64{}
	for i, e := range got {
		if seen[e.ID] {
			return fmt.Errorf("event %s delivered twice", e.ID)
		}
		seen[e.ID] = true
		if want[e.ID] != e.Stream {
			return fmt.Errorf("event %s delivered from %q, appended to %q", e.ID, e.Stream, want[e.ID])
		}
		if i > 0 && !got[i-1].Position.Less(e.Position) {
			return fmt.Errorf("delivery %d at %v is not after %v", i, e.Position, got[i-1].Position)
		}
		prev, ok := lastRev[e.Stream]
		if !ok {
			prev = -1
		}
		if int64(e.Revision) != prev+1 {
			return fmt.Errorf("stream %s delivered revision %d after %d", e.Stream, e.Revision, prev)
		}
		lastRev[e.Stream] = int64(e.Revision)
	}
	if len(seen) != len(want) {
		return fmt.Errorf("saw %d distinct events, appended %d", len(seen), len(want))
	}
	return nil
}
