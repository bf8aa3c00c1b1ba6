package esdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Subscribe follows $all strictly after a position (the server's "from"
// is exclusive too) with the filter applied by the server. The first
// subscription is opened before Subscribe returns; after a drop, which the
// client does not repair, it is reopened from the last position handed to
// the consumer, so nothing is skipped or repeated.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, filter eventstore.Filter) (eventstore.Subscription, error) {
	sctx, cancel := s.conn.scope(ctx)
	sub := &subscription{
		store:  s,
		parent: ctx,
		ctx:    sctx,
		cancel: cancel,
		filter: filter,
		last:   after,
		out:    make(chan eventstore.Message, 256),
		done:   make(chan struct{}),
	}
	es, err := sub.open()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("subscribe to $all after %s: %w", after, invalidPosition(err))
	}
	go sub.run(es)
	return sub, nil
}

type subscription struct {
	store  *Store
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	filter eventstore.Filter
	out    chan eventstore.Message
	done   chan struct{} // closed when run ends; err is set before
	err    error
	closed atomic.Bool

	last     eventstore.Position // of the last message queued; owned by run
	reopened atomic.Int64        // reopens after a drop, for tests and logs
}

func (sub *subscription) Recv() (eventstore.Message, error) {
	if err := sub.ended(); err != nil {
		return eventstore.Message{}, err
	}
	select {
	case m := <-sub.out:
		return m, nil
	case <-sub.done:
	}
	// The pump stopped: hand over what it queued before a failure first.
	select {
	case m := <-sub.out:
		if sub.ended() == nil {
			return m, nil
		}
	default:
	}
	if err := sub.ended(); err != nil {
		return eventstore.Message{}, err
	}
	if sub.err != nil {
		return eventstore.Message{}, sub.err
	}
	return eventstore.Message{}, fmt.Errorf("%w: %w", eventstore.ErrSubscriptionClosed, errClosed)
}

// ended is the error of a subscription closed by its owner or whose
// context is done.
func (sub *subscription) ended() error {
	if sub.closed.Load() {
		return eventstore.ErrSubscriptionClosed
	}
	return sub.parent.Err()
}

func (sub *subscription) Close() error {
	sub.closed.Store(true)
	sub.cancel()
	return nil
}

// open subscribes after sub.last. Without type prefixes the server still
// filters, to drop system events and to send checkpoints (it sends none
// to an unfiltered subscription).
func (sub *subscription) open() (*esdb.Subscription, error) {
	opts := esdb.SubscribeToAllOptions{
		From:               allPosition(sub.last),
		Filter:             esdb.ExcludeSystemEventsFilter(),
		MaxSearchWindow:    32,
		CheckpointInterval: 1, // a checkpoint every 32 events considered
	}
	if len(sub.filter.TypePrefixes) > 0 {
		opts.Filter = &esdb.SubscriptionFilter{Type: esdb.EventFilterType, Prefixes: sub.filter.TypePrefixes}
	}
	// The subscription lives on sub.ctx, but the open is waited for only
	// openWait: a call can stay stuck for good in a client that closed
	// itself after a failed discovery, and waited for on sub.ctx it held
	// the gate (conn.run) for good, so that no later call, command or
	// reopen ever got through again once the server was back.
	wait, cancel := context.WithTimeout(sub.ctx, openWait)
	defer cancel()
	var mu sync.Mutex
	var es *esdb.Subscription
	abandoned := false
	err := sub.store.conn.do(wait, func(_ context.Context, c *esdb.Client) error {
		opened, err := c.SubscribeToAll(sub.ctx, opts)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			_ = opened.Close() // the caller gave up waiting for it
			return errClosed
		}
		es = opened
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		abandoned = true
		if es != nil {
			_ = es.Close() // opened just as the wait ran out
		}
		if sub.ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w: no subscription within %v", eventstore.ErrUnavailable, openWait)
		}
		return nil, err
	}
	return es, nil
}

// openWait bounds the wait for a subscription to open, as the client's
// default deadline (10 s) bounds its other calls.
const openWait = 10 * time.Second

// run pumps one server subscription after another until the context ends
// or an error that a retry cannot fix.
func (sub *subscription) run(es *esdb.Subscription) {
	defer close(sub.done)
	defer sub.cancel()
	o := sub.store.opts
	wait := o.minBackoff
	for {
		progressed, err := sub.pump(es)
		_ = es.Close() // always nil
		if progressed {
			wait = o.minBackoff
		}
		for {
			if sub.ctx.Err() != nil || errors.Is(err, errClosed) {
				return
			}
			if !retryable(err) {
				sub.err = fmt.Errorf("subscription to $all after %s: %w", sub.last, invalidPosition(err))
				return
			}
			o.logger.Warn("eventstore esdb: subscription dropped, reopening", "position", sub.last.String(), "error", err, "wait", wait)
			select {
			case <-time.After(wait/2 + rand.N(wait/2+1)):
			case <-sub.ctx.Done():
				return
			}
			wait = min(2*wait, o.maxBackoff)
			if es, err = sub.open(); err == nil {
				break
			}
		}
		sub.reopened.Add(1)
		o.logger.Info("eventstore esdb: subscription reopened", "position", sub.last.String())
	}
}

// pump hands the server's messages to Recv until the subscription drops.
// Anything at or before the last position queued is dropped: it was
// delivered before a reopen.
func (sub *subscription) pump(es *esdb.Subscription) (progressed bool, err error) {
	for {
		ev := es.Recv()
		var msg eventstore.Message
		switch {
		case ev.SubscriptionDropped != nil:
			return progressed, ev.SubscriptionDropped.Error
		case ev.EventAppeared != nil:
			progressed = true
			e := ev.EventAppeared.OriginalEvent()
			if e == nil {
				continue // a link to a missing event; links are not resolved
			}
			pos := toPosition(e.Position)
			if !sub.last.Less(pos) {
				continue
			}
			sub.last = pos
			// The server filters already; this guards against a prefix
			// that matches system events.
			if isSystem(e.EventType) || !sub.filter.Matches(e.EventType) {
				continue
			}
			rec := toRecorded(e)
			msg.Event = &rec
		case ev.CheckPointReached != nil:
			progressed = true
			pos := toPosition(*ev.CheckPointReached)
			if !sub.last.Less(pos) {
				continue
			}
			sub.last = pos
			msg.Checkpoint = pos
		default: // caught up, fell behind
			progressed = true
			continue
		}
		select {
		case sub.out <- msg:
		case <-sub.ctx.Done():
			return progressed, sub.ctx.Err()
		}
	}
}

// retryable tells a drop worth reopening for (server gone, network cut,
// server error) from one a retry cannot fix.
func retryable(err error) bool {
	if errors.Is(invalidPosition(err), eventstore.ErrInvalidPosition) {
		return false // the server refuses the position each time
	}
	if hasCode(err, esdb.ErrorCodeUnauthenticated) || hasCode(err, esdb.ErrorCodeAccessDenied) ||
		hasCode(err, esdb.ErrorCodeUnsupportedFeature) {
		return false
	}
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied, codes.InvalidArgument, codes.Unimplemented:
		return false
	}
	return true
}
