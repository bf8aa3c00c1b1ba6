package esdb

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/esdb/esdbfake"
)

func startFake(tb testing.TB) *esdbfake.Server {
	tb.Helper()
	fake := esdbfake.New()
	if err := fake.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fake.Stop)
	return fake
}

func newStore(tb testing.TB, url string, opts ...Option) *Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	s, err := New(ctx, url, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// fakeStore is a store over a fresh fake, both cleaned up after the test.
func fakeStore(tb testing.TB, opts ...Option) *Store {
	tb.Helper()
	return newStore(tb, startFake(tb).ConnectionString(), opts...)
}

// mustSubscribe subscribes for the rest of the test.
func mustSubscribe(tb testing.TB, s eventstore.Store, after eventstore.Position, filter eventstore.Filter) eventstore.Subscription {
	tb.Helper()
	sub, err := s.Subscribe(testCtx(tb, time.Minute), after, filter)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = sub.Close() })
	return sub
}

func testCtx(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// names gives one test its own stream and type names, so tests also run
// against a shared server.
type names struct{ prefix string }

func newNames() names { return names{prefix: "esdbt" + uuid.NewString()[:8]} }

func (n names) stream(s string) string    { return n.prefix + "_" + s + "-" + uuid.NewString() }
func (n names) eventType(s string) string { return n.prefix + "." + s }
func (n names) filter() eventstore.Filter {
	return eventstore.Filter{TypePrefixes: []string{n.prefix + "."}}
}

func (n names) events(count int, kind string) []eventstore.EventData {
	out := make([]eventstore.EventData, count)
	for i := range out {
		out[i] = eventstore.EventData{ID: uuid.New(), Type: n.eventType(kind), Data: fmt.Appendf(nil, `{"n":%d}`, i)}
	}
	return out
}

func mustAppend(tb testing.TB, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, evs []eventstore.EventData) eventstore.AppendResult {
	tb.Helper()
	res, err := s.Append(testCtx(tb, 30*time.Second), stream, exp, evs)
	if err != nil {
		tb.Fatalf("append %d events to %s expecting %s: %v", len(evs), stream, exp, err)
	}
	return res
}

// next waits, bounded, for the next message of a subscription.
func next(tb testing.TB, sub eventstore.Subscription, within time.Duration) eventstore.Message {
	tb.Helper()
	type result struct {
		m   eventstore.Message
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := sub.Recv()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			tb.Fatalf("recv: %v", r.err)
		}
		return r.m
	case <-time.After(within):
		tb.Fatalf("no message within %v", within)
		return eventstore.Message{}
	}
}

// nextEvents waits, bounded, for n events, skipping checkpoints.
func nextEvents(tb testing.TB, sub eventstore.Subscription, n int, within time.Duration) []eventstore.RecordedEvent {
	tb.Helper()
	deadline := time.Now().Add(within)
	out := make([]eventstore.RecordedEvent, 0, n)
	for len(out) < n {
		m := next(tb, sub, time.Until(deadline))
		if m.Event != nil {
			out = append(out, *m.Event)
		}
	}
	return out
}

// appendSystem writes n events as the server writes its own ($ types),
// through the client itself: the port refuses such types.
func appendSystem(tb testing.TB, s *Store, stream string, n int) {
	tb.Helper()
	events := make([]esdb.EventData, n)
	for i := range events {
		events[i] = esdb.EventData{EventID: uuid.New(), EventType: "$statsCollected", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	}
	err := s.conn.do(testCtx(tb, 10*time.Second), func(ctx context.Context, c *esdb.Client) error {
		_, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, events...)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}
