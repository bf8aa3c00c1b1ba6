package projections

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

func TestFeed_a_lingering_topic_gathers_what_comes_after_the_first_event(t *testing.T) {
	ctx := context.Background()
	f := &Feed{BatchSize: 2}
	event := func(n uint64) item {
		return itemOf(eventstore.RecordedEvent{ID: uuid.New(), Position: eventstore.Position{Commit: n, Prepare: n}})
	}
	later := func(items chan item, m item) {
		go func() {
			time.Sleep(20 * time.Millisecond)
			items <- m
		}()
	}

	nil0 := fixed(0)
	items := make(chan item, 4)
	items <- event(1)
	later(items, event(2))
	if b, _ := f.next(ctx, items, nil0, never, nil); len(b.Records) != 1 {
		t.Fatalf("no linger: %d events in the batch, want the one ready", len(b.Records))
	}
	if b, _ := f.next(ctx, items, nil0, never, nil); len(b.Records) != 1 || b.Through.Commit != 2 {
		t.Fatalf("no linger, next: %+v", b)
	}

	items <- event(3)
	later(items, event(4))
	b, _ := f.next(ctx, items, fixed(time.Minute), never, nil) // returns once full
	if len(b.Records) != 2 || b.Through.Commit != 4 {
		t.Fatalf("lingering: %d events through %s, want 2 through 4-4", len(b.Records), b.Through)
	}

	items <- event(5)
	start := time.Now()
	b, _ = f.next(ctx, items, fixed(30*time.Millisecond), never, nil)
	if len(b.Records) != 1 || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("lingering with nothing more: %d events after %v", len(b.Records), time.Since(start))
	}
}

func TestFeed_a_projector_batch_waits_while_it_has_nothing_to_write_or_for_its_linger(t *testing.T) {
	ctx := context.Background()
	f := &Feed{BatchSize: 100}
	const wait = 30 * time.Millisecond
	written := writtenTypes(Users{})
	of := func(typ string, n uint64) item {
		return itemOf(eventstore.RecordedEvent{ID: uuid.New(), Type: typ, Position: eventstore.Position{Commit: n, Prepare: n}})
	}
	claimed, invited := reservation.Claimed{}.EventType(), user.Invited{}.EventType()
	items := make(chan item, 4)

	// The claim waits, and goes out with the invitation that follows.
	items <- of(claimed, 1)
	go func() {
		time.Sleep(10 * time.Millisecond)
		items <- of(invited, 2)
	}()
	if b, _ := f.next(ctx, items, projectorHold(written, 0, time.Minute), never, nil); len(b.Records) != 2 {
		t.Fatalf("%d events, want the claim and the invitation", len(b.Records))
	}

	// An invitation goes out at once, a lone claim after the hold.
	for n, typ := range []string{invited, claimed} {
		items <- of(typ, uint64(3+n))
		start := time.Now()
		b, _ := f.next(ctx, items, projectorHold(written, 0, wait), never, nil)
		held := time.Since(start) >= wait
		if len(b.Records) != 1 || held != (typ == claimed) {
			t.Fatalf("%s: %d events after %v", typ, len(b.Records), time.Since(start))
		}
	}

	// A lingering projector's invitation waits too, for its linger.
	items <- of(invited, 5)
	start := time.Now()
	if b, _ := f.next(ctx, items, projectorHold(written, wait, time.Minute), never, nil); len(b.Records) != 1 || time.Since(start) < wait || time.Since(start) > 30*wait {
		t.Fatalf("a lingering invitation: %d events after %v, want one after %v", len(b.Records), time.Since(start), wait)
	}
}

func itemOf(e eventstore.RecordedEvent) item {
	return item{event: true, record: newRecord(&e), through: e.Position}
}

func fixed(d time.Duration) Hold { return func(Batch) time.Duration { return d } }

func TestRecord_decoded_ahead_unless_sealed(t *testing.T) {
	invited := user.Invited{UserID: uuid.New(), Email: "ann@example.com", FirstName: "Ann"}
	data, meta, err := event.Encode(invited, event.Metadata{EventID: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	plain := newRecord(&eventstore.RecordedEvent{ID: uuid.New(), Type: invited.EventType(), Data: data, Metadata: meta})
	readAhead(context.Background(), nil, nil, []*Record{&plain}, nil)
	refuse := func(string, []byte) ([]byte, error) { return nil, errors.New("opened in the transaction") }
	env, ok, err := plain.Envelope(refuse)
	if err != nil || !ok || env.Event.(user.Invited).Email != invited.Email {
		t.Fatalf("decoded ahead: %v %v %v", env.Event, ok, err)
	}

	sealed := newRecord(&eventstore.RecordedEvent{ID: uuid.New(), Type: invited.EventType(),
		Data: bytes.Replace(data, []byte("ann@example.com"), []byte(personal.Prefix+"c2VhbGVk"), 1), Metadata: meta})
	readAhead(context.Background(), nil, nil, []*Record{&sealed}, nil)
	if _, _, err := sealed.Envelope(refuse); err == nil {
		t.Fatal("a sealed record was decoded ahead, without its key")
	}
}

// The decoding stage passes on every item, positions without events
// too, in the order read, across chunks, and decodes the records it is
// asked to; it ends when its input does.
func TestFeed_decode_keeps_the_order_across_chunks(t *testing.T) {
	invited := user.Invited{UserID: uuid.New(), Email: "ann@example.com"}
	data, meta, err := event.Encode(invited, event.Metadata{EventID: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	in, out := make(chan item, 3*decodeChunk), make(chan item, 3*decodeChunk)
	for n := uint64(1); n <= 2*decodeChunk+7; n++ {
		pos := eventstore.Position{Commit: n, Prepare: n}
		if n%5 == 0 {
			in <- item{through: pos} // a checkpoint the subscription passed
			continue
		}
		in <- itemOf(eventstore.RecordedEvent{ID: uuid.New(), Type: invited.EventType(), Data: data, Metadata: meta, Position: pos})
	}
	close(in)
	(&Feed{}).decode(context.Background(), in, out, nil, nil)
	close(out)
	n := uint64(0)
	for it := range out {
		n++
		if it.through.Commit != n || it.event != (n%5 != 0) {
			t.Fatalf("item %d: %+v", n, it.through)
		}
		if it.event && it.record.ahead == nil {
			t.Fatalf("item %d was not decoded", n)
		}
	}
	if n != 2*decodeChunk+7 {
		t.Fatalf("%d items came out, want %d", n, 2*decodeChunk+7)
	}
}

// never is the hurry of a batch nobody hurries.
func never() <-chan struct{} { return nil }

// A batch held back to gather more goes out as soon as a read waiting for
// its topic hurries it, however long its hold.
func TestFeed_a_held_batch_goes_out_when_hurried(t *testing.T) {
	f := &Feed{BatchSize: 100}
	items := make(chan item, 1)
	items <- itemOf(eventstore.RecordedEvent{ID: uuid.New(), Type: reservation.Claimed{}.EventType(), Position: eventstore.Position{Commit: 1, Prepare: 1}})
	taken := make(chan struct{})
	hurried := func() <-chan struct{} {
		defer close(taken)
		return f.hurried.Next("users")
	}
	out := make(chan Batch, 1)
	go func() {
		b, _ := f.next(context.Background(), items, projectorHold(writtenTypes(Users{}), 0, time.Hour), hurried, nil)
		out <- b
	}()
	<-taken
	f.Hurry("partners") // another topic's hurry leaves this batch waiting
	select {
	case b := <-out:
		t.Fatalf("went out with %d events when another topic was hurried", len(b.Records))
	case <-time.After(50 * time.Millisecond):
	}
	f.Hurry("users")
	select {
	case b := <-out:
		if len(b.Records) != 1 || b.Through.Commit != 1 {
			t.Fatalf("hurried batch: %d events through %s, want the claim", len(b.Records), b.Through)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the batch still waits for its hour-long hold after a hurry")
	}
}
