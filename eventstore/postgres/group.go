package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Appends that arrive while the store's writers are all busy wait, and the
// next writer free takes them together: one transaction, one round trip
// and one commit (append_groups, migration 022). Each caller still gets
// its own outcome: a group whose expectations fail is run again alone,
// and so is every group of a batch that fails as a whole (an id stored
// elsewhere breaks the unique index for all of them). An append that
// finds a writer free runs at once, alone, as it always did, so batching
// adds no wait; it only happens under load, where the commits it saves
// are what bounds the rate (with 8 clients, pgbench measured 6.4k
// invitations' appends a second one at a time and 12-15k in batches of
// 4 to 8).
const (
	// batchGroups and batchEvents bound one batch; a larger append goes
	// alone.
	batchGroups = 64
	batchEvents = 2000
)

// pending is one caller's append: its streams (one for Append) and its
// events as append arguments, ids given.
type pending struct {
	ctx     context.Context
	appends []eventstore.StreamAppend
	// one marks an Append, which runs alone through append_events (which
	// recognises a retry), not append_streams.
	one     bool
	cols    appendArgs
	results []eventstore.AppendResult
	err     error
	done    chan struct{}
}

func newPending(ctx context.Context, appends []eventstore.StreamAppend, one bool) *pending {
	p := &pending{ctx: ctx, appends: appends, one: one, done: make(chan struct{})}
	for _, a := range appends {
		p.cols.add(a.Events)
	}
	return p
}

// writers holds the appends waiting for a writer.
type writers struct {
	mu    sync.Mutex
	max   int
	busy  int
	queue []*pending
	// patience bounds an append's wait for a writer (defaultPatience).
	patience time.Duration
}

// defaultPatience is how long an append waits for a writer before it
// runs alone: far longer than a batch takes under load (milliseconds),
// so it only ends the wait of appends behind writers that are stuck.
const defaultPatience = 250 * time.Millisecond

// commit runs p now if a writer is free and nothing waits, and otherwise
// leaves it for the next batch.
func (s *Store) commit(p *pending) ([]eventstore.AppendResult, error) {
	w := &s.writers
	w.mu.Lock()
	if w.busy < w.max && len(w.queue) == 0 {
		w.busy++
		w.mu.Unlock()
		s.runAlone(p)
		s.release()
		return p.results, p.err
	}
	w.queue = append(w.queue, p)
	patience := time.NewTimer(w.patience)
	w.mu.Unlock()
	defer patience.Stop()
	for {
		select {
		case <-p.done:
			return p.results, p.err
		case <-patience.C:
			// The writers are stuck (on a stream's lock, a slow commit):
			// an append still waiting runs alone, beside them, rather
			// than wait for appends to other streams.
			if s.unqueue(p) {
				s.runAlone(p)
				return p.results, p.err
			}
		case <-p.ctx.Done():
			select {
			case <-p.done: // written meanwhile: the result is known
				return p.results, p.err
			default:
			}
			// Still queued, it is dropped when taken; in flight, its batch
			// goes on for the others and its outcome is unknown, as for any
			// append whose caller stops waiting.
			return nil, p.ctx.Err()
		}
	}
}

// unqueue removes p from the queue, if no writer has taken it.
func (s *Store) unqueue(p *pending) bool {
	w := &s.writers
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, q := range w.queue {
		if q == p {
			w.queue = append(w.queue[:i:i], w.queue[i+1:]...)
			return true
		}
	}
	return false
}

// release frees the caller's writer, or keeps it to write what waits.
func (s *Store) release() {
	w := &s.writers
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		w.busy--
		return
	}
	go s.drain()
}

// drain writes batches until nothing waits, then frees its writer.
func (s *Store) drain() {
	for {
		batch := s.take()
		if batch == nil {
			return
		}
		if len(batch) == 1 {
			s.runAlone(batch[0])
		} else {
			s.runBatch(batch)
		}
	}
}

// take removes the next batch from the queue: waiting appends in the order
// they came, but for those whose caller stopped waiting and those that
// share a stream with one taken (they wait for a later batch, which sees
// this one's events), within the batch's bounds. With nothing to take, it
// frees the writer.
func (s *Store) take() []*pending {
	w := &s.writers
	w.mu.Lock()
	defer w.mu.Unlock()
	var batch, left []*pending
	// streams are those of the appends taken and of those left: an
	// append that shares a stream with one left waits behind it.
	streams := map[string]bool{}
	events := 0
	for _, p := range w.queue {
		if p.ctx.Err() != nil {
			continue
		}
		n := len(p.cols.ids)
		if len(batch) > 0 && (len(batch) == batchGroups || events+n > batchEvents || sharesStream(p, streams)) {
			left = append(left, p)
		} else {
			batch, events = append(batch, p), events+n
		}
		for _, a := range p.appends {
			streams[a.Stream] = true
		}
	}
	w.queue = left
	if len(batch) == 0 {
		w.busy--
	}
	return batch
}

func sharesStream(p *pending, streams map[string]bool) bool {
	for _, a := range p.appends {
		if streams[a.Stream] {
			return true
		}
	}
	return false
}

// runAlone writes p in a transaction of its own.
func (s *Store) runAlone(p *pending) {
	if p.one {
		var r eventstore.AppendResult
		a := p.appends[0]
		r, p.err = s.appendEvents(p.ctx, a.Stream, a.Expected, p.cols)
		p.results = []eventstore.AppendResult{r}
	} else {
		p.results, p.err = s.appendStreams(p.ctx, p.appends, p.cols)
	}
	close(p.done)
}

// runBatch writes a batch in one transaction. The query runs until it
// ends or every caller in the batch has stopped waiting.
func (s *Store) runBatch(batch []*pending) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(batch[0].ctx))
	defer cancel()
	var waiting atomic.Int32
	waiting.Store(int32(len(batch)))
	for _, p := range batch {
		stop := context.AfterFunc(p.ctx, func() {
			if waiting.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	written, err := s.appendGroups(ctx, batch)
	unknown := err != nil && !unwritten(err)
	for i, p := range batch {
		switch {
		case unknown && !p.one:
			// The batch may have committed: append_streams would answer
			// a conflict for the append it wrote. Its caller gets the
			// error, as alone (append_events does tell its own retry).
			p.results, p.err = nil, fmt.Errorf("append to %v: %w", streamsOf(p), err)
			close(p.done)
		case err != nil || !written[i]:
			s.runAlone(p)
		default:
			close(p.done)
		}
	}
}

// unwritten reports an error of a batch that certainly did not commit:
// the server refused the statement (its transaction rolled back), or
// nothing reached it.
func unwritten(err error) bool {
	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	return errors.As(err, &pgErr) || errors.As(err, &connectErr) || pgconn.SafeToRetry(err)
}

func streamsOf(p *pending) []string {
	streams := make([]string, len(p.appends))
	for i, a := range p.appends {
		streams[i] = a.Stream
	}
	return streams
}
