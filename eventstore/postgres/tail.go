package postgres

import (
	"context"
	"sort"
	"sync"

	"github.com/bizcenter/bizcenter/eventstore"
)

// tailCap is how many of the newest events the tail keeps at least (and
// at most twice as many).
const tailCap = 4096

// tail is the newest stretch of the log that a subscription of this store
// has read, shared by its live subscriptions. Live, every consumer of a
// process subscribes at the head: without the tail, each append woke them
// all to run the same query (and, when the new events were still held
// back, the same look for held-back events), ten queries where one does.
// With it, one subscription reads for all (the others wait for that read)
// and each then takes the events from memory.
//
// events holds every event of the log after base up to and including
// head, and nothing else: only pages that reached the end of what ReadAll
// could read (which never changes below what it returned) are kept.
type tail struct {
	mu     sync.Mutex
	valid  bool
	base   eventstore.Position
	head   eventstore.Position
	events []eventstore.RecordedEvent
	// started counts shared reads from the head; inflight is closed when
	// the one running ends; last is how the latest one ended.
	started  uint64
	inflight chan struct{}
	last     sharedRead
}

type sharedRead struct {
	n uint64
	// ended is how many of this store's appends had ended when the read
	// began: it saw every one of them.
	ended uint64
	from  eventstore.Position
	// to is the head the read left, and complete that it found every
	// event committed after from (its page was not full, and none was
	// held back).
	to       eventstore.Position
	complete bool
	failed   bool
	hidden   bool
}

// read returns up to limit events after after, and, when there are none,
// whether events committed after it are held back by an older transaction.
//
// A read of the head that began before this call may have missed what
// the caller looks for, so as a rule only a later one will do. But a
// caller that looks only for what this store's appends wrote (share: it
// was woken by the end of one, or has just taken a page, rather than
// polling for other processes' appends) may take the word of a read that
// began once the appends it knows of (ended) had ended, though it began
// before the call, and whether that read found nothing here or found
// everything up to here. Live, each consumer looked again after taking
// its page and after each wake-up; two reads in three found nothing.
func (t *tail) read(ctx context.Context, s *Store, after eventstore.Position, limit int, share bool, ended uint64) ([]eventstore.RecordedEvent, bool, error) {
	t.mu.Lock()
	need := t.started + 1
	answers := func(r sharedRead) bool {
		fresh := r.n >= need || share && r.n > 0 && r.ended >= ended
		return fresh && !r.failed && (r.from == after || r.complete && r.to == after)
	}
	for {
		if t.valid && !after.Less(t.base) && after.Less(t.head) {
			page := t.after(after, limit)
			t.mu.Unlock()
			return page, false, nil
		}
		if !t.valid || after != t.head {
			t.mu.Unlock()
			return t.direct(ctx, s, after, limit)
		}
		if answers(t.last) {
			hidden := t.last.hidden && t.last.from == after
			t.mu.Unlock()
			return nil, hidden, nil
		}
		if wait := t.inflight; wait != nil {
			t.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
			t.mu.Lock()
			continue
		}
		t.started++
		n, from, done := t.started, t.head, make(chan struct{})
		began := s.ended.Load()
		t.inflight = done
		t.mu.Unlock()
		// At the head, a read below every transaction in flight mostly
		// finds nothing (some consumer's is in flight), so the quiet read
		// goes first.
		page, hidden, err := s.readQuiet(ctx, from, limit)
		t.mu.Lock()
		r := sharedRead{n: n, ended: began, from: from, to: from, failed: err != nil, hidden: hidden}
		if err == nil && len(page) > 0 && t.head == from {
			t.extend(page)
			r.to, r.complete = t.head, len(page) < limit && !hidden
		}
		t.inflight, t.last = nil, r
		close(done)
		if err != nil {
			t.mu.Unlock()
			return nil, false, err
		}
	}
}

// direct reads for a subscription behind the tail (or before there is
// one), and keeps a page that reached the end of the readable log.
func (t *tail) direct(ctx context.Context, s *Store, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, bool, error) {
	page, hidden, err := s.readFinal(ctx, after, limit)
	if err != nil || len(page) >= limit {
		return page, hidden, err
	}
	end := after
	if len(page) > 0 {
		end = page[len(page)-1].Position
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.valid && !t.head.Less(end):
		// The tail already reaches as far.
	case t.valid && !after.Less(t.base) && !t.head.Less(after):
		// The page continues the tail.
		for i, e := range page {
			if t.head.Less(e.Position) {
				t.extend(page[i:])
				break
			}
		}
	default:
		t.valid, t.base, t.head, t.events = true, after, end, append([]eventstore.RecordedEvent(nil), page...)
	}
	return page, hidden, nil
}

// after copies up to limit events after pos; the caller holds mu and has
// checked that pos is in [base, head).
func (t *tail) after(pos eventstore.Position, limit int) []eventstore.RecordedEvent {
	i := sort.Search(len(t.events), func(i int) bool { return pos.Less(t.events[i].Position) })
	j := min(len(t.events), i+limit)
	return append([]eventstore.RecordedEvent(nil), t.events[i:j]...)
}

// extend appends events that follow head directly; the caller holds mu.
// Past twice tailCap it drops the oldest down to tailCap: dropping down
// to tailCap at each extend moved the whole tail for every event that
// came live, a twelfth of the service's CPU when paced.
func (t *tail) extend(page []eventstore.RecordedEvent) {
	t.events = append(t.events, page...)
	t.head = page[len(page)-1].Position
	if len(t.events) <= 2*tailCap {
		return
	}
	drop := len(t.events) - tailCap
	t.base = t.events[drop-1].Position
	n := copy(t.events, t.events[drop:])
	clear(t.events[n:]) // let go of the dropped events' data
	t.events = t.events[:n]
}
