package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/seed"
	"github.com/bizcenter/bizcenter/projections"
)

// benchCatchUp measures the users projector from a cold checkpoint over n
// events, against one CopyFrom of n rows of the same average size.
func benchCatchUp(ctx context.Context, admin string, n int) ([]result, error) {
	dbURL, drop, err := freshDB(ctx, admin)
	if err != nil {
		return nil, err
	}
	defer drop()
	p, err := pool(ctx, dbURL, 8)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	store := postgres.New(p, postgres.Config{})
	fmt.Fprintf(os.Stderr, "seeding %d events...\n", n)
	head, err := seed.Invitations(ctx, store, n/5, 5)
	if err != nil {
		return nil, err
	}

	fmt.Fprintf(os.Stderr, "users projector catch-up from a cold checkpoint...\n")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine, err := projections.NewEngine(projections.NewFeed(store, p, log), log)
	if err != nil {
		return nil, err
	}
	engine.AddProjector(p, projections.Users{})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	go func() { _ = engine.Run(runCtx) }()
	for {
		at, err := projections.LoadCheckpoint(ctx, p, projections.Users{}.Name())
		if err != nil {
			return nil, err
		}
		if !at.Less(head) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	catchUp := float64(n) / time.Since(start).Seconds()
	cancel()

	var size int
	if err := p.QueryRow(ctx, `SELECT avg(length(data) + length(metadata))::int FROM events`).Scan(&size); err != nil {
		return nil, err
	}
	row := make([]byte, size)
	for i := range row {
		row[i] = 'x'
	}
	if _, err := p.Exec(ctx, `CREATE TABLE bench_copy (id bigint, data bytea)`); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "raw CopyFrom of %d rows of %d bytes...\n", n, size)
	start = time.Now()
	copied, err := p.CopyFrom(ctx, pgx.Identifier{"bench_copy"}, []string{"id", "data"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) { return []any{int64(i), row}, nil }))
	if err != nil {
		return nil, err
	}
	copyRate := float64(copied) / time.Since(start).Seconds()
	return []result{{
		name: fmt.Sprintf("users projection catch-up, cold, %d events", n), value: catchUp, unit: "ev/s",
		baseline: fmt.Sprintf("CopyFrom, %d rows of %d bytes", n, size), base: copyRate,
	}}, nil
}
