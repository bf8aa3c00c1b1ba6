package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore/esdb"
	"github.com/bizcenter/bizcenter/internal/bench"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// The EventStoreDB figures of `make bench`, measured through the real
// client against the in-process protocol fake, not a real server. Run with
// -benchtime 1x: each is one timed measurement.

func BenchmarkInviteUserOverFake(b *testing.B) {
	fake := startFake(b)
	rate, err := bench.Invites(context.Background(), pgtest.URL(b), fake.ConnectionString(), 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(rate, "invites/s")
}

func BenchmarkCatchUpOverFake(b *testing.B) {
	fake := startFake(b)
	ctx := context.Background()
	store, err := esdb.New(ctx, fake.ConnectionString())
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	pool := pgtest.Pool(b) // registers pguuid, as the service's pools do
	rate, err := bench.CatchUp(ctx, store, pool, 50_000)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(rate, "events/s")
}
