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

// Pass is one pass of a projector over the whole log.
type Pass struct {
	Rate    float64       // events a second
	Took    time.Duration // the whole pass
	PeakRSS int64         // bytes, this process's peak resident set during the pass
}

// CatchUp seeds n events (sealed, their keys in p) into store through its
// appends, then measures EngineCatchUp. The checkpoints and read model
// are in p.
func CatchUp(ctx context.Context, store eventstore.Store, p *pgxpool.Pool, n int) (float64, error) {
	fmt.Fprintf(os.Stderr, "seeding %d events...\n", n)
	head, err := seed.SealedInvitations(ctx, store, n/5, 5, keepIn(p))
	if err != nil {
		return 0, err
	}
	pass, err := EngineCatchUp(ctx, store, p, n, head)
	return pass.Rate, err
}

// EngineCatchUp runs the users projector in the projection engine (the
// feed, the watermill router, the handler), as serve does, from a cold
// checkpoint until it passes head, the last of the n events in store.
func EngineCatchUp(ctx context.Context, store eventstore.Store, p *pgxpool.Pool, n int, head eventstore.Position) (Pass, error) {
	fmt.Fprintf(os.Stderr, "users projector catch-up from a cold checkpoint, %d events...\n", n)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	engine, err := projections.NewEngine(projections.NewFeed(store, p, log), log)
	if err != nil {
		return Pass{}, err
	}
	if _, _, err := projections.EnsureOver(ctx, p, store, projections.Users{}); err != nil {
		return Pass{}, err
	}
	engine.AddProjector(p, projections.Users{})
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	return timed("catch-up", n, func() error {
		go func() { _ = engine.Run(runCtx) }()
		for {
			// Caught up, and the indexes the build deferred made.
			at, err := projections.LiveCheckpoint(ctx, p, projections.Users{}.Name())
			if err != nil {
				return err
			}
			if !at.Less(head) {
				pending, err := projections.PendingIndexes(ctx, p)
				if err != nil || pending == 0 {
					return err
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// Settle vacuums the database and writes out what the passes before left
// in PostgreSQL's buffers (CHECKPOINT), so that the next pass pays for
// neither:
//   - Each pass wrote gigabytes, and the checkpoint they brought on fell
//     in whichever pass came next: the CopyFrom baseline after the
//     catch-up and the rebuild ran at anywhere from 226,000 to 520,000
//     rows a second from one run to the next.
//   - The seed's million events, and a pass's read model, bring on an
//     autovacuum of the table (its first visit of every page, then the
//     visibility map), which ran during the next pass whenever the
//     launcher woke (once a minute), and competed with it for both
//     cores. A log a catch-up or a rebuild runs over in production is
//     older than that, and vacuumed.
func Settle(ctx context.Context, p *pgxpool.Pool) error {
	if _, err := p.Exec(ctx, `VACUUM (ANALYZE)`); err != nil {
		return err
	}
	_, err := p.Exec(ctx, `CHECKPOINT`)
	return err
}

// OperatorRebuild runs projections.Rebuild of the users read model (what
// `bizcenter projections rebuild` runs: a new build from the start of the
// log beside the live one, then the switch) over the n events in store.
func OperatorRebuild(ctx context.Context, store eventstore.Store, p *pgxpool.Pool, n int) (Pass, error) {
	fmt.Fprintf(os.Stderr, "users read model rebuild (projections.Rebuild), %d events...\n", n)
	return timed("rebuild", n, func() error {
		_, err := projections.Rebuild(ctx, p, store, projections.Users{}, nil)
		return err
	})
}

// timed runs a pass over n events, watching its time, CPU and memory.
func timed(what string, n int, pass func() error) (Pass, error) {
	peak := watchRSS()
	start, mark := time.Now(), markCPU()
	err := pass()
	mark.report(what)
	if err != nil {
		return Pass{}, err
	}
	took := time.Since(start)
	return Pass{Rate: float64(n) / took.Seconds(), Took: took, PeakRSS: peak()}, nil
}

// CopyBaseline measures one CopyFrom of n rows the average size of the
// events stored in pool's event store: a row (id, data) whose data makes
// it as large as an event's row is stored (its id, stream, type,
// positions and time with its data and metadata). It returns the size of
// data; rows of data and metadata alone were a hundred bytes smaller
// than the events, and faster to copy.
func CopyBaseline(ctx context.Context, p *pgxpool.Pool, n int) (float64, int, error) {
	var size int
	if err := p.QueryRow(ctx, `SELECT coalesce(avg(pg_column_size(e.*))::int - pg_column_size(ROW(0::bigint, ''::bytea)), 700)
		FROM events e`).Scan(&size); err != nil {
		return 0, 0, err
	}
	row := bytes.Repeat([]byte("x"), size)
	if _, err := p.Exec(ctx, `CREATE TABLE bench_copy (id bigint, data bytea)`); err != nil {
		return 0, 0, err
	}
	fmt.Fprintf(os.Stderr, "raw CopyFrom of %d rows of %d bytes...\n", n, size)
	start := time.Now()
	defer markCPU().report("CopyFrom")
	copied, err := p.CopyFrom(ctx, pgx.Identifier{"bench_copy"}, []string{"id", "data"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) { return []any{int64(i), row}, nil }))
	if err != nil {
		return 0, 0, err
	}
	return float64(copied) / time.Since(start).Seconds(), size, nil
}
