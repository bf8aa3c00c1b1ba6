package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

func events(types ...string) []eventstore.EventData {
	out := make([]eventstore.EventData, len(types))
	for i, t := range types {
		out[i] = eventstore.EventData{ID: uuid.New(), Type: t, Data: []byte(`{"n":` + fmt.Sprint(i) + `}`), Metadata: []byte(`{}`)}
	}
	return out
}

func TestAppendStreams_writes_every_stream_in_one_transaction_in_order(t *testing.T) {
	ctx := context.Background()
	s := postgres.New(pgtest.Pool(t), postgres.Config{})
	if _, err := s.Append(ctx, "b", eventstore.NoStream(), events("test.before")); err != nil {
		t.Fatal(err)
	}
	res, err := s.AppendStreams(ctx, []eventstore.StreamAppend{
		{Stream: "a", Expected: eventstore.NoStream(), Events: events("test.one", "test.two")},
		{Stream: "b", Expected: eventstore.Exact(0), Events: events("test.three")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].NextRevision != 1 || res[1].NextRevision != 1 {
		t.Fatalf("results %+v, want revisions 1 and 1", res)
	}
	all, err := s.ReadAll(ctx, eventstore.Start, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range all[1:] {
		got = append(got, fmt.Sprintf("%s@%d %s", e.Stream, e.Revision, e.Type))
		if e.Position.Commit != res[1].Position.Commit {
			t.Errorf("%s@%d at %v: not in the transaction of %v", e.Stream, e.Revision, e.Position, res[1].Position)
		}
	}
	if want := "[a@0 test.one a@1 test.two b@1 test.three]"; fmt.Sprint(got) != want {
		t.Errorf("log %v, want %s", got, want)
	}
	if all[3].Position != res[1].Position || all[2].Position != res[0].Position {
		t.Errorf("results at %v and %v, the log has them at %v and %v", res[0].Position, res[1].Position, all[2].Position, all[3].Position)
	}
}

func TestAppendStreams_writes_nothing_when_one_expectation_fails(t *testing.T) {
	ctx := context.Background()
	s := postgres.New(pgtest.Pool(t), postgres.Config{})
	if _, err := s.Append(ctx, "taken", eventstore.NoStream(), events("test.before", "test.before")); err != nil {
		t.Fatal(err)
	}
	_, err := s.AppendStreams(ctx, []eventstore.StreamAppend{
		{Stream: "free", Expected: eventstore.NoStream(), Events: events("test.one")},
		{Stream: "taken", Expected: eventstore.NoStream(), Events: events("test.two")},
	})
	var wrong *eventstore.WrongExpectedRevisionError
	if !errors.As(err, &wrong) || wrong.Stream != "taken" || wrong.Actual == nil || *wrong.Actual != 1 {
		t.Fatalf("error %v, want a conflict on taken, at revision 1", err)
	}
	if _, err := s.ReadStream(ctx, "free", eventstore.ReadStreamOptions{}); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Errorf("free was written to: %v", err)
	}
	if _, err := s.AppendStreams(ctx, []eventstore.StreamAppend{
		{Stream: "twice", Expected: eventstore.Any(), Events: events("test.one")},
		{Stream: "twice", Expected: eventstore.Any(), Events: events("test.two")},
	}); err == nil {
		t.Error("a stream given twice was accepted")
	}
}

// Two appends to the same streams given in opposite orders take the
// streams' locks in one order, so neither waits for the other forever.
func TestAppendStreams_in_opposite_orders_do_not_deadlock(t *testing.T) {
	ctx := context.Background()
	s := postgres.New(pgtest.Pool(t), postgres.Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				first, second := "left", "right"
				if w%2 == 1 {
					first, second = second, first
				}
				_, err := s.AppendStreams(ctx, []eventstore.StreamAppend{
					{Stream: first, Expected: eventstore.Any(), Events: events("test.one")},
					{Stream: second, Expected: eventstore.Any(), Events: events("test.two")},
				})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, stream := range []string{"left", "right"} {
		got, err := s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
		if err != nil || len(got) != 200 {
			t.Errorf("%s: %d events (%v), want 200", stream, len(got), err)
		}
	}
}
