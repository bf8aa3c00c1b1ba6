package personal

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// Recent holds, for a short while, the keys this process sealed with, so
// that its projectors open what a command just wrote without asking the
// database for the key: live, that query was a round trip on the way of
// every invitation to the read API.
//
// Only read models may open with it (projections' readAhead). A key
// erased meanwhile by another process may still be held here for up to
// recentFor, and a read model may then show a person's data until the
// erasure's own event, which follows in the log, blanks it; the same holds
// for keys read before a batch's transaction. The mailer and the audit
// route open with the database alone. Keys older than recentFor are let
// go at the next remember or lookup.
type Recent struct {
	mu    sync.Mutex
	keys  map[uuid.UUID]recentKey
	order []uuid.UUID // in the order remembered, oldest first
	now   func() time.Time
}

type recentKey struct {
	key []byte
	at  time.Time
}

const (
	// recentFor is how long a key is held: an invitation reaches the
	// projectors within milliseconds, or they are catching up and fetch
	// keys a thousand at a time anyway.
	recentFor = 10 * time.Second
	// recentMax bounds the keys held, however fast commands come.
	recentMax = 4096
)

// NewRecent makes an empty Recent.
func NewRecent() *Recent {
	return &Recent{keys: map[uuid.UUID]recentKey{}, now: time.Now}
}

func (r *Recent) remember(subject uuid.UUID, key []byte) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.keys[subject]; ok {
		return // a person's key never changes: the one held is it
	}
	now := r.now()
	r.letGo(now, 1)
	r.keys[subject] = recentKey{key: key, at: now}
	r.order = append(r.order, subject)
}

// letGo drops, oldest first, the keys held for recentFor, and more while
// fewer than room keys could be added.
func (r *Recent) letGo(now time.Time, room int) {
	for len(r.order) > 0 {
		oldest := r.order[0]
		k, held := r.keys[oldest]
		if held && now.Sub(k.at) < recentFor && len(r.keys)+room <= recentMax {
			return
		}
		r.order = r.order[1:]
		if held {
			delete(r.keys, oldest)
		}
	}
}

func (r *Recent) forget(subject uuid.UUID) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.keys, subject)
}

// OpenerFor opens the sealed fields of the given subjects with the keys it
// holds, and reports false, with nothing to open, unless it holds every
// one. db is asked only for a subject an event names that subjects did
// not (see SealedSubject).
func (r *Recent) OpenerFor(ctx context.Context, db DB, subjects []uuid.UUID) (event.Transform, bool) {
	if r == nil || len(subjects) == 0 {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.letGo(r.now(), 0)
	cache := make(map[uuid.UUID][]byte, len(subjects))
	for _, s := range subjects {
		k, ok := r.keys[s]
		if !ok {
			return nil, false
		}
		cache[s] = k.key
	}
	return Keys{DB: db}.opener(ctx, cache), true
}
