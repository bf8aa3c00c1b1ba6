package publisher_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/projections"
	"github.com/bizcenter/bizcenter/publisher"
)

// slowBroker takes its first publish after a pause (a broker blocked by
// a memory alarm, or slow to take a catch-up batch), and counts what it
// takes.
type slowBroker struct {
	pause time.Duration
	mu    sync.Mutex
	calls int
	taken map[string]int
}

func (b *slowBroker) Publish(_ string, msgs ...*message.Message) error {
	b.mu.Lock()
	b.calls++
	first := b.calls == 1
	for _, m := range msgs {
		b.taken[m.UUID]++
	}
	b.mu.Unlock()
	if first {
		time.Sleep(b.pause)
	}
	return nil
}

func (b *slowBroker) Close() error { return nil }

// A broker that takes a batch in more than the 10 s a consumer's step
// may wait on its process (projections.Begin) has the batch once, and
// the checkpoint moves past it. With the step open around the publish,
// PostgreSQL ended its session, the checkpoint was not saved, and the
// batch was published again: with a broker that stays that slow, again
// on every try, the checkpoint never moving.
func TestPublisher_saves_its_checkpoint_after_a_publish_longer_than_a_steps_bound(t *testing.T) {
	pool := pgtest.Pool(t)
	store := postgres.New(pool, postgres.Config{})
	broker := &slowBroker{pause: 11 * time.Second, taken: map[string]int{}}
	engine, err := projections.NewEngine(projections.NewFeed(store, pool, quiet()), quiet())
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher.Publisher{Pool: pool, Out: broker, Log: quiet(), Orders: integration.NewOrders(store, quiet())}
	engine.AddConsumer(publisher.Name, p.Handle)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	want := appendHistory(t, store, 1, 1)
	last := withPositions(t, store, want)
	waitCheckpoint(t, pool, last)
	broker.mu.Lock()
	defer broker.mu.Unlock()
	for id := range want {
		if n := broker.taken[id]; n != 1 {
			t.Errorf("event %s published %d times (%d publishes), want once", id, n, broker.calls)
		}
	}
}
