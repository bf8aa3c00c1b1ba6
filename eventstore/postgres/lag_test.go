package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// The monitor asks for every consumer's lag each second through a
// prepared statement, which PostgreSQL may plan once for any position.
// That plan must read the events past the position by the log's index,
// not the whole log; and the lag must count them.
func TestLag_reads_past_the_position_by_the_index_whatever_the_plan(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	// Enough events that reading them all costs more than the index.
	if _, err := pool.Exec(ctx, `
		INSERT INTO events (event_id, stream, revision, type, data, metadata)
		SELECT gen_random_uuid(), 'lag-' || g, 0, 'probe.happened', '{}', '{}' FROM generate_series(1, 50000) g;
		ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	var at eventstore.Position
	if err := pool.QueryRow(ctx, `SELECT tx_id, seq FROM events ORDER BY tx_id DESC, seq DESC OFFSET 5 LIMIT 1`).Scan(&at.Commit, &at.Prepare); err != nil {
		t.Fatal(err)
	}
	_, n, oldest, err := New(pool, Config{}).Lag(ctx, at)
	if err != nil || n != 5 || oldest.IsZero() {
		t.Fatalf("lag %d, oldest %v (%v); want 5 events", n, oldest, err)
	}

	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.Exec(ctx, `RESET plan_cache_mode`) }()
	if _, err := conn.Conn().Prepare(ctx, "lag_probe", lagSQL); err != nil {
		t.Fatal(err)
	}
	// EXPLAIN takes no parameters: the position goes in as literals.
	rows, err := conn.Query(ctx, fmt.Sprintf(`EXPLAIN EXECUTE lag_probe(%d, %d, 100000)`, at.Commit, at.Prepare))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(plan, "\n"); strings.Contains(text, "Seq Scan") {
		t.Errorf("the generic plan reads the whole log:\n%s", text)
	}
}
