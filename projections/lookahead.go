package projections

import (
	"context"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/bizcenter/bizcenter/eventstore"
)

// aheadWrites are a batch's writes, planned by the feed while the
// projector's handler still applied the batch before it (see
// Feed.lookAhead). Catching up, planning a batch's writes (decoding
// aside) took about a fifth of the handler's time, all of it while the
// database waited; planned ahead, it overlaps the previous batch's round
// trips.
type aheadWrites struct {
	mu   sync.Mutex
	from eventstore.Position // planned for the records after it
	w    *writes             // nil once taken
}

// takeAhead returns the writes planned ahead for the batch, if it has
// them and they are what queueAll(p, b.Records, from, nil) would plan: no
// record the feed planned for is at or before from. They are handed out
// once: a batch delivered again plans its writes again.
func (b Batch) takeAhead(from eventstore.Position) *writes {
	a := b.ahead
	if a == nil || a.from.Less(from) {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.w
	a.w = nil
	return w
}

// planner plans a projector's writes for records after from, for a batch
// that opens without a personal key; nil when it cannot (the handler then
// plans them as it always did, and reports any error).
type planner func(records []Record, from eventstore.Position) *writes

// plannerOf is the planner of projector p.
func plannerOf(p Projector) planner {
	return func(records []Record, from eventstore.Position) *writes {
		if !needsNoKey(records, from) {
			return nil
		}
		w, err := queueAll(p, records, from, nil)
		if err != nil {
			return nil
		}
		return w
	}
}

// lookAhead takes the batch after prev, with its writes planned, while
// the handler applies prev: it gathers up to a whole batch until the
// handler is done with m (prev's message), as next would have right
// after. Only after a whole batch, a catch-up's: live, a batch taken
// early would leave out the events that come while prev is applied, for
// a transaction of their own. ok is false when it took nothing.
func (f *Feed) lookAhead(ctx context.Context, items <-chan item, plan planner, prev Batch, m *message.Message) (Batch, bool) {
	if plan == nil || len(prev.Records) < f.BatchSize {
		return Batch{}, false
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-m.Acked():
		case <-m.Nacked():
		case <-ctx.Done():
		}
	}()
	var b Batch
	select {
	case m, ok := <-items:
		if !ok {
			return Batch{}, false
		}
		if b, ok = f.gather(ctx, m, items, untilDone, func() <-chan struct{} { return done }, f.BatchSize); !ok {
			return Batch{}, false
		}
	case <-done: // nothing came meanwhile: a nacked prev goes again
		return Batch{}, false
	}
	if len(b.Records) > 0 {
		if w := plan(b.Records, prev.Through); w != nil {
			b.ahead = &aheadWrites{from: prev.Through, w: w}
		}
	}
	return b, true
}

// untilDone holds a batch taken ahead until its gatherer is hurried.
func untilDone(Batch) time.Duration { return time.Hour }
