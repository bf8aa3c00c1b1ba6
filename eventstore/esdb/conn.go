package esdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bizcenter/bizcenter/eventstore"
)

var errClosed = errors.New("eventstore esdb: store closed")

// gateWait bounds how long a call that holds the gate is waited for: about
// the client's discovery when the server refuses connections, well within
// the time it takes when the server does not answer at all (10 attempts of
// up to 5 s each).
const gateWait = 15 * time.Second

// closeWait bounds how long Close waits for calls still inside the client.
const closeWait = 5 * time.Second

// lease is one esdb.Client and what the adapter knows of it.
//
// The client funnels every call through one state-machine goroutine over
// an unbuffered channel, and that goroutine ignores contexts while it
// (re)discovers the server. When discovery fails it exits for good, and
// callers already waiting to send to it wait forever. So, while the client
// has not yet proved it is connected, callers go through it one at a time
// (gate), and no caller ever waits on it longer than its own context.
type lease struct {
	client  *esdb.Client
	healthy atomic.Bool   // a call got through and no transport error since
	gate    chan struct{} // one call at a time while not healthy
	users   sync.WaitGroup
}

// conn hands out the current client and replaces it when it has closed
// itself after a failed discovery.
type conn struct {
	cfg  *esdb.Configuration
	base context.Context // done once the store is closed
	stop context.CancelFunc

	mu     sync.Mutex
	cur    *lease
	closed bool
}

func newConn(ctx context.Context, cfg *esdb.Configuration) (*conn, error) {
	cl, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	// The store outlives the context it was built with (keeping its
	// values) and ends with Close, which cancels every call still running.
	base, stop := context.WithCancel(context.WithoutCancel(ctx))
	return &conn{cfg: cfg, base: base, stop: stop, cur: newLease(cl)}, nil
}

func newLease(cl *esdb.Client) *lease {
	return &lease{client: cl, gate: make(chan struct{}, 1)}
}

// scope ties a caller's context to the store's lifetime.
func (c *conn) scope(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(c.base, cancel)
	return ctx, func() { unhook(); cancel() }
}

// do runs fn with the current client. A client that closed itself is
// replaced and fn run once more: a closed client sends nothing, so the
// retry cannot write twice.
func (c *conn) do(ctx context.Context, fn func(context.Context, *esdb.Client) error) error {
	for retried := false; ; retried = true {
		l, err := c.acquire()
		if err != nil {
			return err
		}
		err = c.run(ctx, l, fn)
		if retried || !hasCode(err, esdb.ErrorCodeConnectionClosed) {
			return err
		}
		if err := c.renew(l); err != nil {
			return err
		}
	}
}

func (c *conn) acquire() (*lease, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errClosed
	}
	c.cur.users.Add(1)
	return c.cur, nil
}

// run calls fn in its own goroutine so that the caller's context holds
// even while the client is stuck; an abandoned call finishes on its own.
// The gate is held only while the caller waits: a call stuck for good in a
// dead client must not keep the next one from finding the client closed.
func (c *conn) run(ctx context.Context, l *lease, fn func(context.Context, *esdb.Client) error) error {
	if err := ctx.Err(); err != nil {
		l.users.Done()
		return err
	}
	var bound <-chan time.Time
	if !l.healthy.Load() {
		select {
		case l.gate <- struct{}{}:
			defer func() { <-l.gate }()
		case <-ctx.Done():
			l.users.Done()
			return ctx.Err()
		}
		// A caller with no deadline (a subscription, the monitor) whose
		// call is stuck in a client that closed itself held the gate for
		// good, and no later call ever found the client closed.
		t := time.NewTimer(gateWait)
		defer t.Stop()
		bound = t.C
	}
	done := make(chan error, 1)
	go func() {
		defer l.users.Done()
		err := fn(ctx, l.client)
		switch {
		case err == nil:
			l.healthy.Store(true)
		case hasCode(err, esdb.ErrorUnavailable), hasCode(err, esdb.ErrorCodeConnectionClosed):
			// The client rediscovers the server on its next call.
			l.healthy.Store(false)
		}
		done <- unavailable(err)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-bound:
		return fmt.Errorf("%w: no answer within %v while reaching the server again", eventstore.ErrUnavailable, gateWait)
	}
}

// renew replaces a client that closed itself. The old one is not closed:
// closing its channel would panic any goroutine still trying to send to it.
func (c *conn) renew(old *lease) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errClosed
	}
	if c.cur != old {
		return nil // another call renewed it already
	}
	cl, err := esdb.NewClient(c.cfg)
	if err != nil {
		return err
	}
	c.cur = newLease(cl)
	return nil
}

// close cancels every call and subscription, then closes the client once
// no call is inside it (see renew for why not before).
func (c *conn) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	l := c.cur
	c.mu.Unlock()
	c.stop()
	drained := make(chan struct{})
	go func() {
		l.users.Wait()
		close(drained)
	}()
	select {
	case <-drained:
		_ = l.client.Close() // always nil
	case <-time.After(closeWait):
		// A call is stuck in the client's discovery: leave the client to
		// finish on its own rather than risk that panic.
	}
}

// hasCode reports whether err is an *esdb.Error with this code. The
// client's FromError cannot be used: it reports ok for a nil error and a
// type assertion misses wrapped errors.
// unavailable marks the errors of a server that cannot be reached or did
// not answer in time (the client's own deadline, 10 s by default, not the
// caller's; or the server's own prepare, commit or forward timeout, which
// it answers as gRPC Aborted, "Operation timed out", and the client as
// ErrorAborted) as eventstore.ErrUnavailable, which callers answer with
// "try again" rather than as a fault.
// A read's stream passes on gRPC's status where the client's other calls
// wrap it in an esdb.Error: both are looked at.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	for _, code := range []esdb.ErrorCode{esdb.ErrorUnavailable, esdb.ErrorCodeConnectionClosed, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorCodeNotLeader, esdb.ErrorAborted} {
		if hasCode(err, code) {
			return fmt.Errorf("%w: %w", eventstore.ErrUnavailable, err)
		}
	}
	if s, ok := status.FromError(err); ok && (s.Code() == codes.Unavailable || s.Code() == codes.DeadlineExceeded || s.Code() == codes.Aborted) {
		return fmt.Errorf("%w: %w", eventstore.ErrUnavailable, err)
	}
	return err
}

func hasCode(err error, code esdb.ErrorCode) bool {
	var e *esdb.Error
	return errors.As(err, &e) && e.Code() == code
}
