// Package bench measures bizcenter and raw PostgreSQL in the same run;
// cmd/bench prints the figures, and service tests reuse them over the
// EventStoreDB protocol fake.
package bench

import (
	"context"
	"fmt"
	"os"
	"time"
)

const clients = 8

// Invites measures InviteUser through HTTP with 8 concurrent clients for
// d, on a service over dbURL (events there too, unless eventStoreURL is
// set). Projections do not run, so only the command path is measured.
func Invites(ctx context.Context, dbURL, eventStoreURL string, d time.Duration) (float64, error) {
	n, err := startNode(ctx, dbURL, eventStoreURL)
	if err != nil {
		return 0, err
	}
	defer n.Close()
	if err := n.register(ctx); err != nil {
		return 0, err
	}
	fmt.Fprintf(os.Stderr, "InviteUser over HTTP, %d clients, %v...\n", clients, d)
	mark, work := markCPU(), dbWork(ctx, n.svc.Pool(), "InviteUser")
	t, err := closedLoop(clients, d, func(worker, i int) error {
		_, err := n.invite(fmt.Sprintf("u%d-%d@bench.example", worker, i))
		return err
	})
	mark.report("InviteUser")
	work(t.Latency.N)
	return t.Rate, err
}

// InsertBaseline measures single-row INSERT autocommit of event-sized rows
// with 8 connections for d.
func InsertBaseline(ctx context.Context, dbURL string, d time.Duration) (float64, error) {
	fmt.Fprintf(os.Stderr, "raw single-row INSERT autocommit, %d connections, %v...\n", clients, d)
	p, err := Pool(ctx, dbURL, clients)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	if _, err := p.Exec(ctx, `CREATE TABLE bench_rows (id bigserial PRIMARY KEY, data bytea NOT NULL)`); err != nil {
		return 0, err
	}
	defer markCPU().report("INSERT")
	t, err := closedLoop(clients, d, func(int, int) error {
		_, err := p.Exec(ctx, `INSERT INTO bench_rows (data) VALUES ($1)`, eventSizedRow)
		return err
	})
	return t.Rate, err
}
