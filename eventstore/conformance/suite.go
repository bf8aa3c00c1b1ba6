// Package conformance is the behaviour every eventstore.Store adapter must
// show. An adapter's test calls Run with a factory; the suite names its own
// streams and event types uniquely, so it also runs against a shared server
// that holds other data.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Factory returns a store for one test. It registers its own cleanup.
type Factory func(t *testing.T) eventstore.Store

// Options tune the suite for slow targets.
type Options struct {
	// ConcurrentEvents is the total events of the concurrent-writers test
	// (default 10,000).
	ConcurrentEvents int
}

// Run runs the whole suite.
func Run(t *testing.T, newStore Factory, opts Options) {
	if opts.ConcurrentEvents == 0 {
		opts.ConcurrentEvents = 10_000
	}
	t.Run("append", func(t *testing.T) { testAppend(t, newStore) })
	t.Run("read stream", func(t *testing.T) { testReadStream(t, newStore) })
	t.Run("read all", func(t *testing.T) { testReadAll(t, newStore) })
	t.Run("subscribe", func(t *testing.T) { testSubscribe(t, newStore) })
	t.Run("concurrent writers", func(t *testing.T) { testConcurrentWriters(t, newStore, opts.ConcurrentEvents) })
}

// fixture names streams and types uniquely for one test.
type fixture struct {
	prefix string
}

func newFixture() fixture {
	return fixture{prefix: "conf" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")}
}

func (f fixture) stream(name string) string    { return f.prefix + "_" + name + "-" + uuid.NewString() }
func (f fixture) eventType(name string) string { return f.prefix + "." + name }
func (f fixture) filter() eventstore.Filter {
	return eventstore.Filter{TypePrefixes: []string{f.prefix + "."}}
}

func (f fixture) events(n int, kind string) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = eventstore.EventData{
			ID:       uuid.New(),
			Type:     f.eventType(kind),
			Data:     []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Metadata: []byte(`{"actor":"conformance"}`),
		}
	}
	return out
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func mustAppend(t *testing.T, s eventstore.Store, stream string, exp eventstore.ExpectedRevision, evs []eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(ctxFor(t, 30*time.Second), stream, exp, evs)
	if err != nil {
		t.Fatalf("append %d events to %s expecting %s: %v", len(evs), stream, exp, err)
	}
	return res
}

func wantWrongRevision(t *testing.T, err error, stream string, actual *uint64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
		t.Fatalf("want wrong expected revision, got %v", err)
	}
	var wer *eventstore.WrongExpectedRevisionError
	if !errors.As(err, &wer) {
		t.Fatalf("want *WrongExpectedRevisionError, got %T", err)
	}
	if wer.Stream != stream {
		t.Errorf("error names stream %q, want %q", wer.Stream, stream)
	}
	switch {
	case actual == nil && wer.Actual != nil:
		t.Errorf("error says stream at %d, want no stream", *wer.Actual)
	case actual != nil && (wer.Actual == nil || *wer.Actual != *actual):
		t.Errorf("error says stream at %v, want %d", wer.Actual, *actual)
	}
}

func rev(n uint64) *uint64 { return &n }
