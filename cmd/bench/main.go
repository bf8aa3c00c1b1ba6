// Command bench measures bizcenter against raw PostgreSQL on the same
// cluster in the same run, and prints each figure beside its baseline and
// the ratio. `make bench` starts a throwaway cluster (fsync on) for it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/bench"
)

func main() {
	admin := flag.String("cluster", os.Getenv("BENCH_CLUSTER_URL"), "admin URL of the cluster to create databases in")
	invites := flag.Duration("invite-time", 10*time.Second, "how long to run InviteUser")
	events := flag.Int("catchup-events", 100_000, "events for the catch-up measure")
	flag.Parse()
	if *admin == "" {
		fmt.Fprintln(os.Stderr, "bench: -cluster or BENCH_CLUSTER_URL is required (make bench sets it)")
		os.Exit(2)
	}
	if err := report(context.Background(), *admin, *invites, *events); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func report(ctx context.Context, admin string, d time.Duration, n int) error {
	dbURL, drop, err := bench.FreshDB(ctx, admin)
	if err != nil {
		return err
	}
	defer drop()
	invites, err := bench.Invites(ctx, dbURL, "", d)
	if err != nil {
		return err
	}
	inserts, err := bench.InsertBaseline(ctx, dbURL, d)
	if err != nil {
		return err
	}

	catchURL, dropCatch, err := bench.FreshDB(ctx, admin)
	if err != nil {
		return err
	}
	defer dropCatch()
	p, err := bench.Pool(ctx, catchURL, 8)
	if err != nil {
		return err
	}
	defer p.Close()
	catchUp, err := bench.CatchUp(ctx, postgres.New(p, postgres.Config{}), p, n)
	if err != nil {
		return err
	}
	copyRate, size, err := bench.CopyBaseline(ctx, p, n)
	if err != nil {
		return err
	}

	fmt.Printf("\n%-50s %12s   %-42s %12s  %6s\n", "measure (PostgreSQL event store)", "bizcenter", "raw PostgreSQL baseline, same run", "baseline", "ratio")
	line := func(name string, v float64, unit, base string, b float64) {
		fmt.Printf("%-50s %9.0f %-4s %-42s %9.0f %-4s %6.3f\n", name, v, unit, base, b, unit, v/b)
	}
	line("InviteUser, HTTP command path, 8 clients", invites, "/s", "single-row INSERT autocommit, 8 conns", inserts)
	line(fmt.Sprintf("users projection catch-up, cold, %d events", n), catchUp, "ev/s", fmt.Sprintf("CopyFrom, %d rows of %d bytes", n, size), copyRate)
	return nil
}
