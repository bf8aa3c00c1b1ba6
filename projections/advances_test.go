package projections

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// A consumer's batch done signals those who wait for that consumer; a
// batch that failed does not.
func TestEngine_signals_a_consumers_finished_batch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := pgtest.Pool(t)
	store := postgres.New(pool, postgres.Config{})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	feed := NewFeed(store, pool, log)
	feed.RetryDelay = time.Hour // a failed batch is not tried again here
	engine, err := NewEngine(feed, log)
	if err != nil {
		t.Fatal(err)
	}
	engine.AddConsumer("done", func(*message.Message) error { return nil })
	tried := make(chan struct{})
	engine.AddConsumer("failing", func(*message.Message) error { close(tried); return errors.New("no") })
	done, failing := engine.Advances().Next("done"), engine.Advances().Next("failing")
	go func() { _ = engine.Run(ctx) }()
	<-engine.Running()
	if _, err := store.Append(ctx, "probe-1", eventstore.NoStream(), []eventstore.EventData{{ID: uuid.New(), Type: "probe.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a finished batch did not signal")
	}
	<-tried
	select {
	case <-failing:
		t.Fatal("a failed batch signaled")
	case <-time.After(50 * time.Millisecond):
	}
}
