package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// Live subscriptions of one store share its reads: an append takes about
// one read of the log, not one for each subscription woken, nor another
// for each after it took its page.
func TestSubscriptions_at_the_head_share_one_read_an_append(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := New(pgtest.Pool(t), Config{PollInterval: time.Hour}) // wake-ups only
	const subscribers, appends = 8, 40
	got := make(chan string, subscribers*appends)
	for range subscribers {
		receive(ctx, t, s, got)
	}
	before := s.tail.started
	for range appends {
		if _, err := s.Append(ctx, "share-"+uuid.NewString(), eventstore.NoStream(),
			[]eventstore.EventData{{ID: uuid.New(), Type: "test.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		for range subscribers {
			select {
			case <-got:
			case <-ctx.Done():
				t.Fatal("an event did not reach every subscription")
			}
		}
	}
	s.tail.mu.Lock()
	reads := s.tail.started - before
	s.tail.mu.Unlock()
	if reads > appends*3/2 {
		t.Fatalf("%d reads of the log for %d appends to %d subscriptions", reads, appends, subscribers)
	}
	t.Logf("%d reads of the log for %d appends to %d subscriptions", reads, appends, subscribers)
}

// Sharing never stands in for a poll: an append of another process (here
// another store on the database), which wakes nobody, is found at the
// next poll, also right after the subscription took a page of its own
// store's appends.
func TestSubscriptions_find_another_process_appends_at_the_next_poll(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := pgtest.Pool(t)
	here, elsewhere := New(pool, Config{PollInterval: 20 * time.Millisecond}), New(pool, Config{})
	got := make(chan string, 16)
	receive(ctx, t, here, got)
	for i, s := range []*Store{here, elsewhere, here, elsewhere, elsewhere} {
		stream := "poll-" + uuid.NewString()
		if _, err := s.Append(ctx, stream, eventstore.NoStream(),
			[]eventstore.EventData{{ID: uuid.New(), Type: "test.happened", Data: []byte(`{}`), Metadata: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-got:
			if at != stream {
				t.Fatalf("append %d: got %s, want %s", i, at, stream)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("append %d (of the other store: %v) not delivered", i, s == elsewhere)
		}
	}
}

// receive subscribes to s from the start and sends the stream of each
// event it gets to got, until the test ends.
func receive(ctx context.Context, t *testing.T, s *Store, got chan<- string) {
	t.Helper()
	sub, err := s.Subscribe(ctx, eventstore.Start, eventstore.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	go func() {
		for {
			m, err := sub.Recv()
			if err != nil {
				return
			}
			if m.Event != nil {
				got <- m.Event.Stream
			}
		}
	}()
}
