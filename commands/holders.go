package commands

import (
	"context"
	"sync"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/user"
)

// Holders remembers, per account and email, the user who held the email
// when a command last looked, so that finding a command's actor takes one
// stream read (the user's) instead of two (the email's reservation, then
// the user). What it remembers is only a guess to check: the user's stream
// decides. A user whose stream has the email holds its reservation (an
// email is claimed before a user takes it and released after the user
// leaves it), so the guess is right exactly when that user still has the
// email; otherwise the reservation is read as before.
//
// It is safe for concurrent use; a nil *Holders remembers nothing.
type Holders struct {
	mu sync.Mutex
	m  map[holderKey]uuid.UUID
}

type holderKey struct {
	account uuid.UUID
	email   string
}

// holdersCap bounds the memory: past it, everything is forgotten at once
// (the next commands read reservations again), which is simpler than an
// eviction order and costs one read per actor.
const holdersCap = 1 << 16

// NewHolders returns an empty memory.
func NewHolders() *Holders { return &Holders{m: map[holderKey]uuid.UUID{}} }

func (h *Holders) get(k holderKey) (uuid.UUID, bool) {
	if h == nil {
		return uuid.Nil, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	id, ok := h.m[k]
	return id, ok
}

func (h *Holders) put(k holderKey, id uuid.UUID) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.m) >= holdersCap {
		clear(h.m)
	}
	h.m[k] = id
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
	if id, ok := d.Holders.get(k); ok {
		var u user.User
		if _, err := load(ctx, d, user.Stream(id), &u); err != nil {
			return nil, err
		}
		if u.Exists() && u.Account() == accountID && user.NormalizeEmail(u.Email()) == k.email {
			return &u, nil
		}
		d.Holders.forget(k)
	}
	u, _, _, err := d.userByEmail(ctx, accountID, email)
	if err == nil && u != nil {
		d.Holders.put(k, u.ID())
	}
	return u, err
}
