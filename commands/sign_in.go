package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// SignIn activates, on a person's first sign-in with a verified email, the
// invitations still pending for that email, as accepting them would.
type SignIn struct {
	By Actor
}

// SignedIn is the answer: the position of the last activation (Start when
// nothing changed).
type SignedIn struct {
	Activated []uuid.UUID
	Position  eventstore.Position
}

// SignInHandler handles SignIn. Candidates come from find (a read model
// lookup by email); each is decided from its own events.
func SignInHandler(d Deps, find func(ctx context.Context, email string) ([]uuid.UUID, error)) Handler[SignIn, SignedIn] {
	return HandlerFunc[SignIn, SignedIn](func(ctx context.Context, c SignIn) (SignedIn, error) {
		var out SignedIn
		if c.By.Email == "" {
			return out, nil
		}
		ids, err := find(ctx, user.NormalizeEmail(c.By.Email))
		if err != nil {
			return out, fmt.Errorf("sign-in candidates: %w", err)
		}
		for _, id := range ids {
			pos, ok, err := d.activateOnSignIn(ctx, id, c.By)
			if err != nil {
				return out, err
			}
			if ok {
				out.Activated = append(out.Activated, id)
				out.Position = pos
			}
		}
		return out, nil
	})
}

func (d Deps) activateOnSignIn(ctx context.Context, id uuid.UUID, a Actor) (eventstore.Position, bool, error) {
	type result struct {
		pos eventstore.Position
		ok  bool
	}
	r, err := retried(ctx, func() (result, error) {
		var u user.User
		l, err := load(ctx, d, user.Stream(id), &u)
		if err != nil {
			return result{}, err
		}
		now := d.now()
		accepted := u.AcceptBySignIn(a.Email, now)
		if accepted == nil {
			return result{}, nil
		}
		res, err := save(ctx, d, user.Stream(id), l, origin{actor: a.name(), at: now}, []event.Event{*accepted}...)
		return result{res.Position, err == nil}, err
	})
	return r.pos, r.ok, err
}
