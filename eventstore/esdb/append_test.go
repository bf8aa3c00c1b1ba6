package esdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

func TestAppend_wrong_expected_revision_carries_the_actual_revision(t *testing.T) {
	s, n := fakeStore(t), newNames()
	existing := n.stream("at2")
	mustAppend(t, s, existing, eventstore.NoStream(), n.events(3, "x"))

	two := uint64(2)
	cases := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedRevision
		actual   *uint64
	}{
		{"exact on a missing stream", n.stream("missing"), eventstore.Exact(0), nil},
		{"stream exists on a missing stream", n.stream("missing"), eventstore.StreamExists(), nil},
		{"no stream on a stream at 2", existing, eventstore.NoStream(), &two},
		{"exact behind", existing, eventstore.Exact(1), &two},
		{"exact ahead", existing, eventstore.Exact(9), &two},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Append(testCtx(t, 10*time.Second), c.stream, c.expected, n.events(1, "x"))
			var wrong *eventstore.WrongExpectedRevisionError
			if !errors.As(err, &wrong) || !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
				t.Fatalf("want *WrongExpectedRevisionError, got %v", err)
			}
			if wrong.Stream != c.stream || wrong.Expected != c.expected {
				t.Fatalf("error names %s expecting %s, want %s expecting %s", wrong.Stream, wrong.Expected, c.stream, c.expected)
			}
			switch {
			case c.actual == nil && wrong.Actual != nil:
				t.Fatalf("actual %d, want no stream", *wrong.Actual)
			case c.actual != nil && (wrong.Actual == nil || *wrong.Actual != *c.actual):
				t.Fatalf("actual %v, want %d", wrong.Actual, *c.actual)
			}
		})
	}
}

// If a later client words its error differently, the revision is read
// from the stream instead.
func TestAppend_wrong_revision_falls_back_to_reading_the_stream(t *testing.T) {
	s, n := fakeStore(t), newNames()
	stream := n.stream("fallback")
	mustAppend(t, s, stream, eventstore.NoStream(), n.events(2, "x"))

	if _, ok := actualFromMessage(errors.New("wrong expected version: expecting '0' but got '1'")); ok {
		t.Fatal("parsed a message that is not the client's *esdb.Error")
	}
	err := s.wrongRevision(testCtx(t, 10*time.Second), stream, eventstore.Exact(0), errors.New("reworded"))
	var wrong *eventstore.WrongExpectedRevisionError
	if !errors.As(err, &wrong) || wrong.Actual == nil || *wrong.Actual != 1 {
		t.Fatalf("want actual revision 1, got %v", err)
	}
	err = s.wrongRevision(testCtx(t, 10*time.Second), n.stream("none"), eventstore.Exact(0), errors.New("reworded"))
	if !errors.As(err, &wrong) || wrong.Actual != nil {
		t.Fatalf("want no stream, got %v", err)
	}
}

func TestAppend_rejects_an_empty_batch(t *testing.T) {
	s := fakeStore(t)
	if _, err := s.Append(testCtx(t, 10*time.Second), newNames().stream("empty"), eventstore.Any(), nil); err == nil {
		t.Fatal("an empty append succeeded")
	}
}

func TestAppend_retry_with_any_returns_the_first_result(t *testing.T) {
	s, n := fakeStore(t), newNames()
	stream := n.stream("anyretry")
	mustAppend(t, s, stream, eventstore.NoStream(), n.events(1, "x"))
	batch := n.events(2, "x")
	first := mustAppend(t, s, stream, eventstore.Any(), batch)
	mustAppend(t, s, stream, eventstore.Any(), n.events(1, "x"))
	again := mustAppend(t, s, stream, eventstore.Any(), batch)
	if again != first {
		t.Fatalf("retry answered %+v, first answer %+v", again, first)
	}
}

// The server takes at most 1 MiB in one append (the fake as well): past
// it the port's error says so, and an import, which is free to split its
// runs, keeps each append under the budget.
func TestAppend_past_the_maximum_append_size_and_an_import_below_it(t *testing.T) {
	s := fakeStore(t)
	ctx := testCtx(t, time.Minute)
	// Each line sealed and chained, as exports are: import checks chains.
	prev := ""
	line := func(stream string, rev uint64) audit.Line {
		data := fmt.Sprintf(`{"n":%d,"pad":%q}`, rev, strings.Repeat("x", 2200))
		if rev == 0 {
			prev = ""
		}
		meta := event.Metadata{EventID: uuid.New(), PreviousHash: prev}
		meta.Hash = event.Hash(stream, rev, "bench.padded", []byte(data), meta)
		prev = meta.Hash
		metadata, err := json.Marshal(meta)
		if err != nil {
			t.Fatal(err)
		}
		return audit.Line{ID: meta.EventID, Stream: stream, Revision: rev, Type: "bench.padded", Data: json.RawMessage(data), Metadata: metadata}
	}
	var big []eventstore.EventData
	for i := range 500 {
		l := line("too-big", uint64(i))
		big = append(big, eventstore.EventData{ID: l.ID, Type: l.Type, Data: l.Data, Metadata: l.Metadata})
	}
	if _, err := s.Append(ctx, "too-big", eventstore.NoStream(), big); !errors.Is(err, eventstore.ErrAppendTooLarge) {
		t.Fatalf("an append of 500 events of 2.2 kB: %v, want ErrAppendTooLarge", err)
	}

	var export bytes.Buffer
	enc := json.NewEncoder(&export)
	for i := range 500 {
		if err := enc.Encode(line("imported", uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := audit.Import(ctx, s, &export, nil); err != nil || n != 500 {
		t.Fatalf("import of the same: %d events, %v", n, err)
	}
	events, err := s.ReadStream(ctx, "imported", eventstore.ReadStreamOptions{})
	if err != nil || len(events) != 500 {
		t.Fatalf("imported stream: %d events, %v", len(events), err)
	}
}
