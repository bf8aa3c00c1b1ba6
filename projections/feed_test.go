package projections

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/eventstore"
)

func TestFeed_a_lingering_topic_gathers_what_comes_after_the_first_event(t *testing.T) {
	ctx := context.Background()
	f := &Feed{BatchSize: 2}
	event := func(n uint64) eventstore.Message {
		return eventstore.Message{Event: &eventstore.RecordedEvent{ID: uuid.New(), Position: eventstore.Position{Commit: n, Prepare: n}}}
	}
	later := func(items chan eventstore.Message, m eventstore.Message) {
		go func() {
			time.Sleep(20 * time.Millisecond)
			items <- m
		}()
	}

	items := make(chan eventstore.Message, 4)
	items <- event(1)
	later(items, event(2))
	if b, _ := f.next(ctx, items, 0); len(b.Records) != 1 {
		t.Fatalf("no linger: %d events in the batch, want the one ready", len(b.Records))
	}
	if b, _ := f.next(ctx, items, 0); len(b.Records) != 1 || b.Through.Commit != 2 {
		t.Fatalf("no linger, next: %+v", b)
	}

	items <- event(3)
	later(items, event(4))
	b, _ := f.next(ctx, items, time.Minute) // returns once full
	if len(b.Records) != 2 || b.Through.Commit != 4 {
		t.Fatalf("lingering: %d events through %s, want 2 through 4-4", len(b.Records), b.Through)
	}

	items <- event(5)
	start := time.Now()
	b, _ = f.next(ctx, items, 30*time.Millisecond)
	if len(b.Records) != 1 || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("lingering with nothing more: %d events after %v", len(b.Records), time.Since(start))
	}
}
