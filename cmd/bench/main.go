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
)

// result is one line of the report.
type result struct {
	name     string
	value    float64
	unit     string
	baseline string
	base     float64
}

func main() {
	admin := flag.String("cluster", os.Getenv("BENCH_CLUSTER_URL"), "admin URL of the cluster to create databases in")
	invites := flag.Duration("invite-time", 10*time.Second, "how long to run InviteUser")
	events := flag.Int("catchup-events", 100_000, "events for the catch-up measure")
	flag.Parse()
	if *admin == "" {
		fmt.Fprintln(os.Stderr, "bench: -cluster or BENCH_CLUSTER_URL is required (make bench sets it)")
		os.Exit(2)
	}
	ctx := context.Background()
	var results []result
	for _, run := range []func() ([]result, error){
		func() ([]result, error) { return benchInvites(ctx, *admin, *invites) },
		func() ([]result, error) { return benchCatchUp(ctx, *admin, *events) },
	} {
		r, err := run()
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		results = append(results, r...)
	}
	fmt.Println()
	fmt.Printf("%-58s %14s   %-44s %14s  %6s\n", "measure", "bizcenter", "raw PostgreSQL baseline (same run)", "baseline", "ratio")
	for _, r := range results {
		fmt.Printf("%-58s %10.0f %-4s  %-44s %10.0f %-3s %6.3f\n", r.name, r.value, r.unit, r.baseline, r.base, "", r.value/r.base)
	}
}
