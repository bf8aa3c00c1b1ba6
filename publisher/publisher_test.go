package publisher_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/projections"
	"github.com/bizcenter/bizcenter/publisher"
)

// A test binary started with childEnv set runs only the publisher, until
// it is killed: the crash test's process.
const childEnv = "PUBLISHER_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := runChild(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChild() error {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("CHILD_DATABASE_URL"))
	if err != nil {
		return err
	}
	cfg := publisher.Config{Transport: os.Getenv("CHILD_TRANSPORT"), URL: os.Getenv("CHILD_URL"), Topic: os.Getenv("CHILD_TOPIC")}
	return run(ctx, pool, postgres.New(pool, postgres.Config{}), cfg)
}

// run runs the publisher in a projection engine until ctx ends.
func run(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, cfg publisher.Config) error {
	out, err := publisher.Open(cfg, stdlib.OpenDBFromPool(pool), quiet())
	if err != nil {
		return err
	}
	defer out.Close()
	engine, err := projections.NewEngine(projections.NewFeed(store, pool, quiet()), quiet())
	if err != nil {
		return err
	}
	p := &publisher.Publisher{Pool: pool, Out: out, Topic: cfg.Topic, Log: quiet(), Orders: integration.NewOrders(store, quiet())}
	engine.AddConsumer(publisher.Name, p.Handle)
	return engine.Run(ctx)
}

var transports = []string{publisher.NATS, publisher.AMQP, publisher.Postgres}

func topic(t *testing.T) string { return "it-" + uuid.NewString()[:8] }

func TestPublisher_delivers_every_event_in_order_per_aggregate(t *testing.T) {
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			url := brokerURL(t, transport)
			pool := pgtest.Pool(t)
			store := postgres.New(pool, postgres.Config{})
			top := topic(t)
			in := subscribe(t, transport, url, stdlib.OpenDBFromPool(pool), top)

			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- run(ctx, pool, store, publisher.Config{Transport: transport, URL: url, Topic: top}) }()
			t.Cleanup(func() { cancel(); <-done })

			want := appendHistory(t, store, 60, 4)
			withPositions(t, store, want)
			got := collect(t, in, nil, want, 30*time.Second, 300*time.Millisecond)
			counts := checkDelivery(t, got, want)
			for id, n := range counts {
				if n != 1 {
					t.Errorf("event %s arrived %d times without any crash", id, n)
				}
			}
		})
	}
}

// The publisher is killed (SIGKILL) while it publishes a stream of
// events, then started again. Every event arrives; the only events that
// arrive twice are those after the checkpoint the killed process had
// saved (docs/integration.md, "Delivery"), at most twice, and dropping
// repeated ids leaves each aggregate in order.
func TestPublisher_killed_mid_stream_loses_nothing_and_repeats_only_past_its_checkpoint(t *testing.T) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			url := brokerURL(t, transport)
			dbURL := pgtest.URL(t)
			pool, err := pgxpool.New(context.Background(), dbURL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			store := postgres.New(pool, postgres.Config{})
			top := topic(t)
			in := subscribe(t, transport, url, stdlib.OpenDBFromPool(pool), top)
			child := func() *exec.Cmd {
				cmd := exec.Command(bin, "-test.run=^$")
				cmd.Env = append(os.Environ(), childEnv+"=1", "CHILD_DATABASE_URL="+dbURL, "CHILD_TRANSPORT="+transport, "CHILD_URL="+url, "CHILD_TOPIC="+top)
				logf, _ := os.Create(filepath.Join(t.TempDir(), "child.log"))
				cmd.Stdout, cmd.Stderr = logf, logf
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
				return cmd
			}

			first := child()
			// Writers keep appending while the publisher runs, dies and
			// comes back.
			var want map[string]sent
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); want = appendHistory(t, store, 500, 4) }()

			var got []*message.Message
			for len(got) < 400 {
				select {
				case m := <-in:
					got = append(got, m)
				case <-time.After(30 * time.Second):
					t.Fatalf("only %d messages before the kill", len(got))
				}
			}
			if err := first.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_, _ = first.Process.Wait()
			saved, err := projections.LoadCheckpoint(context.Background(), pool, publisher.Name)
			if err != nil {
				t.Fatal(err)
			}
			child()
			wg.Wait()
			head := withPositions(t, store, want)
			got = collect(t, in, got, want, 60*time.Second, 0)
			waitCheckpoint(t, pool, head)
			got = collect(t, in, got, nil, time.Second, 500*time.Millisecond)

			counts := checkDelivery(t, got, want)
			repeated := 0
			for id, n := range counts {
				if n == 1 {
					continue
				}
				repeated++
				if n > 2 || !saved.Less(want[id].position) {
					t.Errorf("event %s at %s arrived %d times; only events after the killed process's checkpoint %s may arrive twice",
						id, want[id].position, n, saved)
				}
			}
			t.Logf("%s: %d events, %d messages before the kill, checkpoint then %s, %d events repeated", transport, len(want), 400, saved, repeated)
		})
	}
}

// waitCheckpoint waits, bounded, until the publisher saved pos.
func waitCheckpoint(t *testing.T, pool *pgxpool.Pool, pos eventstore.Position) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		at, err := projections.LoadCheckpoint(context.Background(), pool, publisher.Name)
		if err == nil && !at.Less(pos) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the publisher's checkpoint is at %s, not %s, after 30s (%v)", at, pos, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
