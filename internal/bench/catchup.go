package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/seed"
	"github.com/bizcenter/bizcenter/projections"
)

// CatchUp seeds n events into store, then measures the users projector
// from a cold checkpoint until it passes the last of them. The checkpoints
// and read model are in pool.
func CatchUp(ctx context.Context, store eventstore.Store, p *pgxpool.Pool, n int) (float64, error) {
	fmt.Fprintf(os.Stderr, "seeding %d events...\n", n)
	head, err := seed.Invitations(ctx, store, n/5, 5)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(os.Stderr, "users projector catch-up from a cold checkpoint...\n")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine, err := projections.NewEngine(projections.NewFeed(store, p, log), log)
	if err != nil {
		return 0, err
	}
	if _, _, err := projections.Ensure(ctx, p, projections.Users{}); err != nil {
		return 0, err
	}
	engine.AddProjector(p, projections.Users{})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	go func() { _ = engine.Run(runCtx) }()
	for {
		at, err := projections.LiveCheckpoint(ctx, p, projections.Users{}.Name())
		if err != nil {
			return 0, err
		}
		if !at.Less(head) {
			return float64(n) / time.Since(start).Seconds(), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// CopyBaseline measures one CopyFrom of n rows the average size of the
// events stored in dbURL's event store.
func CopyBaseline(ctx context.Context, p *pgxpool.Pool, n int) (float64, int, error) {
	var size int
	if err := p.QueryRow(ctx, `SELECT coalesce(avg(length(data) + length(metadata))::int, 600) FROM events`).Scan(&size); err != nil {
		return 0, 0, err
	}
	row := bytes.Repeat([]byte("x"), size)
	if _, err := p.Exec(ctx, `CREATE TABLE bench_copy (id bigint, data bytea)`); err != nil {
		return 0, 0, err
	}
	fmt.Fprintf(os.Stderr, "raw CopyFrom of %d rows of %d bytes...\n", n, size)
	start := time.Now()
	copied, err := p.CopyFrom(ctx, pgx.Identifier{"bench_copy"}, []string{"id", "data"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) { return []any{int64(i), row}, nil }))
	if err != nil {
		return 0, 0, err
	}
	return float64(copied) / time.Since(start).Seconds(), size, nil
}
