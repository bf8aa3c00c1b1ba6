package commands

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Holders remembers, per account and email, the user who held the email
// when a command last looked, folded up to the revision it was read at,
// so that finding a command's actor takes one short read (the user's
// events since) instead of two stream reads and a key. What it remembers
// is only a guess to check: the user's stream decides. Of an account's
// users at most one has a given email in their stream (a user takes an
// email only after claiming it, and a claim is taken over only from an
// owner who no longer has it, see holding), so the guess is right exactly
// when that user still has the email; otherwise the reservation is read
// as before. The remembered users hold opened emails:
// an erasure appends to the user's stream, which the next look folds in.
// An erasure destroys the key before it appends, though, and one that
// stops in between leaves a user whose email a full look can no longer
// open, with nothing in their stream to say so (the sweeper appends the
// event later): so a user is remembered for holderTTL at most after the
// full look that found them.
//
// It is safe for concurrent use; a nil *Holders remembers nothing.
type Holders struct {
	mu sync.Mutex
	m  map[holderKey]holder
}

type holderKey struct {
	account uuid.UUID
	email   string
}

// holder is a user folded up to a revision. The user is never changed
// once remembered: newer events are folded into a clone.
type holder struct {
	user     *user.User
	revision uint64
	// last is the id of the event at revision, which the stream must
	// still have there for the fold to be continued.
	last uuid.UUID
	// found is when a full look found the user.
	found time.Time
}

// holderTTL bounds how long a user found once acts without a full look.
const holderTTL = 10 * time.Second

// holdersCap bounds the memory: past it, everything is forgotten at once
// (the next commands read reservations again), which is simpler than an
// eviction order and costs one full look per actor.
const holdersCap = 1 << 16

// NewHolders returns an empty memory.
func NewHolders() *Holders { return &Holders{m: map[holderKey]holder{}} }

func (h *Holders) get(k holderKey) (holder, bool) {
	if h == nil {
		return holder{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	got, ok := h.m[k]
	return got, ok
}

func (h *Holders) put(k holderKey, v holder) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.m) >= holdersCap {
		clear(h.m)
	}
	h.m[k] = v
}

func (h *Holders) forget(k holderKey) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, k)
}

// actorUser is the user holding an email in an account (nil: nobody), as
// userByEmail finds it, through the remembered holder when there is one.
func (d Deps) actorUser(ctx context.Context, accountID uuid.UUID, email string) (*user.User, error) {
	k := holderKey{account: accountID, email: user.NormalizeEmail(email)}
	if h, ok := d.Holders.get(k); ok && d.now().Sub(h.found) < holderTTL {
		now, err := d.catchUp(ctx, h)
		if err != nil {
			return nil, err
		}
		if u := now.user; u != nil && u.Account() == accountID && user.NormalizeEmail(u.Email()) == k.email {
			if now.revision != h.revision {
				d.Holders.put(k, now)
			}
			return u, nil
		}
		d.Holders.forget(k)
	}
	u, c, err := d.userByEmail(ctx, accountID, email)
	if err == nil && u != nil && c.ownerAt.revision != nil {
		l := c.ownerAt
		d.Holders.put(k, holder{user: u, revision: *l.revision, last: l.last, found: d.now()})
	}
	return u, err
}

// catchUp folds the events appended to a remembered user's stream since
// it was read; its user is nil when the stream no longer continues what
// was folded (or has too much to catch up on), for a full look instead.
func (d Deps) catchUp(ctx context.Context, h holder) (holder, error) {
	// Reading from the last event folded, not after it: a read that finds
	// the stream's end empty would take a second query to tell an empty
	// end from a missing stream.
	page, err := d.Store.ReadStream(ctx, user.Stream(h.user.ID()), eventstore.ReadStreamOptions{From: h.revision, Limit: readPage})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return holder{}, nil
	}
	if err != nil {
		return holder{}, err
	}
	if len(page) == 0 || page[0].ID != h.last || page[0].Revision != h.revision || len(page) == readPage {
		return holder{}, nil
	}
	if len(page) == 1 {
		return h, nil
	}
	u, open := h.user.Clone(), d.opener(ctx)
	for _, rec := range page[1:] {
		e, _, err := event.DecodeWith(rec.Type, rec.Data, rec.Metadata, open)
		if err != nil {
			return holder{}, err
		}
		u.Apply(e)
	}
	last := page[len(page)-1]
	return holder{user: u, revision: last.Revision, last: last.ID, found: h.found}, nil
}
