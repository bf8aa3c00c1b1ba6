package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/conformance"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

func TestPostgresStore_conformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) eventstore.Store {
		return postgres.New(pgtest.Pool(t), postgres.Config{})
	}, conformance.Options{})
}

// An event id is stored once in the whole log: appending it again to
// another stream, or at another place, conflicts and writes nothing,
// whether the expectation held (the unique index catches it) or could
// not fail (append_events looks for the ids first).
func TestAppend_of_an_id_stored_elsewhere_conflicts(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := postgres.New(pool, postgres.Config{})
	id := uuid.New()
	event := func() []eventstore.EventData {
		return []eventstore.EventData{{ID: id, Type: "test.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}}
	}
	if _, err := s.Append(ctx, "first", eventstore.NoStream(), event()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "second", eventstore.NoStream(), []eventstore.EventData{{ID: uuid.New(), Type: "test.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	zero := uint64(0)
	for _, c := range []struct {
		stream   string
		expected eventstore.ExpectedRevision
		actual   *uint64
	}{
		{"second", eventstore.Exact(0), &zero},
		{"third", eventstore.NoStream(), nil},
		{"second", eventstore.Any(), &zero},
		{"second", eventstore.StreamExists(), &zero},
		{"first", eventstore.Exact(0), &zero}, // at another place of its own stream
	} {
		_, err := s.Append(ctx, c.stream, c.expected, event())
		var wrong *eventstore.WrongExpectedRevisionError
		if !errors.As(err, &wrong) {
			t.Fatalf("append to %s expecting %v: %v, want a conflict", c.stream, c.expected, err)
		}
		if (wrong.Actual == nil) != (c.actual == nil) || (c.actual != nil && *wrong.Actual != *c.actual) {
			t.Errorf("append to %s expecting %v: conflict says stream at %v, want %v", c.stream, c.expected, wrong.Actual, c.actual)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("the log holds %d events (%v), want the first 2", n, err)
	}
}
