package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// Count is what a rebuild's progress bar divides by: it counts the log,
// whatever the planner's statistics say. It read their estimate for a
// large log, which a bulk load that autovacuum had not yet analyzed left
// a quarter short: the bar said 88 %, a second left, then vanished for
// the last quarter of the rebuild. (The statistics are set by hand here,
// as stale as such a load leaves them.)
func TestCount_counts_the_log_whatever_the_planner_estimates(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	s := postgres.New(pool, postgres.Config{})
	for range 3 {
		if _, err := s.Append(ctx, "stream-"+uuid.NewString(), eventstore.NoStream(),
			[]eventstore.EventData{{ID: uuid.New(), Type: "test.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `UPDATE pg_class SET reltuples = 300000 WHERE oid = 'events'::regclass`); err != nil {
		t.Fatal(err)
	}
	n, err := s.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("Count = %d, want the 3 events stored", n)
	}
}
