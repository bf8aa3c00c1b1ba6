package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
)

// broadcast wakes every waiter at once: a waiter takes the current channel,
// and signal closes it and puts a fresh one in its place.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

func newBroadcast() *broadcast { return &broadcast{ch: make(chan struct{})} }

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ch
}

func (b *broadcast) signal() {
	b.mu.Lock()
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

// Subscribe implements eventstore.Store by reading pages of the log: pages
// arrive back to back while catching up; when a page comes back empty it
// waits for an append through this store or the poll interval. At the head,
// the store's subscriptions share their reads (see tail).
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	ctx, cancel := context.WithCancel(ctx)
	return &subscription{store: s, ctx: ctx, cancel: cancel, after: after, filter: filter}, nil
}

type subscription struct {
	store  *Store
	ctx    context.Context
	cancel context.CancelFunc
	after  eventstore.Position
	filter eventstore.Filter
	buf    []eventstore.RecordedEvent
	// backoff is the next pause while committed events are held back.
	backoff time.Duration
	// share: the next read looks only for what this store's appends
	// wrote (see tail.read), after a page taken or a wake-up by an
	// append's end; not at the first read, nor at a poll.
	share  bool
	closed bool
	mu     sync.Mutex
}

func (s *subscription) Recv() (eventstore.Message, error) {
	for {
		if s.isClosed() {
			return eventstore.Message{}, eventstore.ErrSubscriptionClosed
		}
		if len(s.buf) > 0 {
			// A page is the subscription's own and is never written
			// after it is kept: its events are handed out in place.
			e := &s.buf[0]
			s.buf = s.buf[1:]
			return eventstore.Message{Event: e}, nil
		}
		woken := s.store.wakeup.wait()
		page, hidden, err := s.store.tail.read(s.ctx, s.store, s.after, s.store.cfg.PageSize, s.share, s.store.ended.Load())
		if err != nil {
			if s.isClosed() {
				return eventstore.Message{}, eventstore.ErrSubscriptionClosed
			}
			return eventstore.Message{}, err
		}
		if len(page) == 0 {
			// Events committed but held back behind an older transaction
			// still in flight (often a projector's, not an append's) show
			// within milliseconds: look again soon rather than wait for
			// the next append or the poll.
			// When this store has appends in flight, the end of each wakes
			// the subscription anyway: an append of another process is
			// then looked for at the next wake-up, not polled for.
			if hidden && s.store.appending.Load() == 0 {
				s.backoff = min(max(2*s.backoff, time.Millisecond), s.store.cfg.PollInterval)
			} else {
				s.backoff = 0
			}
			if s.share, err = s.idle(woken); err != nil {
				return eventstore.Message{}, err
			}
			continue
		}
		s.backoff, s.share = 0, true
		s.after = page[len(page)-1].Position
		s.buf = page[:0] // kept in place: each read's page is a new one
		for _, e := range page {
			if s.filter.Matches(e.Type) {
				s.buf = append(s.buf, e)
			}
		}
		if len(s.buf) == 0 {
			return eventstore.Message{Checkpoint: s.after}, nil
		}
	}
}

// idle waits for woken (and reports it), or the poll interval (backoff,
// when set).
func (s *subscription) idle(woken <-chan struct{}) (bool, error) {
	wait := s.store.cfg.PollInterval
	if s.backoff > 0 {
		wait = s.backoff
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-woken:
		return true, nil
	case <-t.C:
		return false, nil
	case <-s.ctx.Done():
		if s.isClosed() {
			return false, eventstore.ErrSubscriptionClosed
		}
		return false, s.ctx.Err()
	}
}

func (s *subscription) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *subscription) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	return nil
}
