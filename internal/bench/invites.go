// Package bench measures bizcenter and raw PostgreSQL in the same run;
// cmd/bench prints the figures, and service tests reuse them over the
// EventStoreDB protocol fake.
package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
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

// AppendBaseline measures the embedded store's append of an invitation's
// two events alone (the email's claim and the invited user, one
// transaction, each stream expected new) with 8 connections for d: what
// bounds InviteUser before any of its own work. dbURL is a migrated
// database (FreshDB).
func AppendBaseline(ctx context.Context, dbURL string, d time.Duration) (float64, error) {
	fmt.Fprintf(os.Stderr, "the store's append of an invitation's two events, %d connections, %v...\n", clients, d)
	p, err := Pool(ctx, dbURL, clients)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	store := postgres.New(p, postgres.Config{})
	meta := []byte(fmt.Sprintf(`{"pad":"%s"}`, strings.Repeat("m", 240)))
	claim := []byte(fmt.Sprintf(`{"pad":"%s"}`, strings.Repeat("c", 190)))
	defer markCPU().report("append")
	t, err := closedLoop(clients, d, func(int, int) error {
		_, err := store.AppendStreams(ctx, []eventstore.StreamAppend{
			{Stream: "reservation-" + uuid.NewString(), Expected: eventstore.NoStream(), Events: []eventstore.EventData{{ID: uuid.New(), Type: "reservation.claimed", Data: claim, Metadata: meta}}},
			{Stream: "user-" + uuid.NewString(), Expected: eventstore.NoStream(), Events: []eventstore.EventData{{ID: uuid.New(), Type: "user.invited", Data: eventSizedRow, Metadata: meta}}},
		})
		return err
	})
	return t.Rate, err
}
