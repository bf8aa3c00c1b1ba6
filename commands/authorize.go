package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
)

// loadAccount loads an account that must exist.
func (d Deps) loadAccount(ctx context.Context, id uuid.UUID) (*account.Account, loaded, error) {
	var a account.Account
	l, err := load(ctx, d, account.Stream(id), &a)
	if err != nil {
		return nil, l, err
	}
	if !a.Exists() {
		return nil, l, fmt.Errorf("account %s: %w", id, domain.ErrNotFound)
	}
	return &a, l, nil
}

// accountExists answers ErrNotFound for an account that does not exist.
// The account's events are folded with their personal fields sealed: the
// manager's email says nothing about whether the account is there, and
// opening it took a key read.
func (d Deps) accountExists(ctx context.Context, id uuid.UUID) error {
	var a account.Account
	if _, err := loadWith(ctx, d, account.Stream(id), &a, nil); err != nil {
		return err
	}
	if !a.Exists() {
		return fmt.Errorf("account %s: %w", id, domain.ErrNotFound)
	}
	return nil
}

// userByEmail finds the user holding an email in an account, from the
// reservation stream and its owner's stream (nil when nobody holds it).
// The owner must still have that email: a reservation left behind by a
// change of email or an erasure, or read while a change is under way,
// names nobody, so it never lends anyone rights. What the claim amounts
// to is in its holding.
func (d Deps) userByEmail(ctx context.Context, accountID uuid.UUID, email string) (*user.User, *emailClaim, loaded, error) {
	c := newEmailClaim(accountID, user.NormalizeEmail(email))
	var err error
	if c.at, err = load(ctx, d, c.stream, &c.Reservation); err != nil {
		return nil, nil, loaded{}, err
	}
	if c.Owner() == uuid.Nil {
		return nil, c, loaded{}, nil
	}
	var u user.User
	l, err := load(ctx, d, user.Stream(c.Owner()), &u)
	if err != nil {
		return nil, c, l, err
	}
	tag := c.OwnerRevision()
	switch {
	case u.Exists() && user.NormalizeEmail(u.Email()) == c.email:
		c.holding = held
		return &u, c, l, nil
	case l.revision == nil || tag != nil && *tag == *l.revision:
		c.holding = incoming
	default:
		c.holding = left
	}
	return nil, c, l, nil
}

// emailClaim is the reservation stream of an email in an account, as read.
type emailClaim struct {
	reservation.Reservation
	email, stream string
	at            loaded
	holding       holding
}

// holding is what a claim on an email amounts to, its owner read after it.
// Emails are never released when their owner leaves them: a claim whose
// owner no longer has the email is free for the next one to take over.
// Releases (a run releasing an email its user had again by then) raced
// with claims across two streams; a claim checked against its owner
// cannot be stale in a way that matters.
type holding int

const (
	// unclaimed: nobody claimed the email (or its claim was released,
	// before claims were checked against their owners).
	unclaimed holding = iota
	// held: the owner has the email.
	held
	// incoming: the owner is being given the email: a user not yet
	// invited, or a change of email claimed on the revision of the user's
	// stream that the stream still ends at.
	incoming
	// left: the owner no longer has the email (changed it, or erased).
	left
)

func newEmailClaim(accountID uuid.UUID, email string) *emailClaim {
	return &emailClaim{email: email, stream: reservation.UserEmailStream(accountID, email)}
}

// rolesIn returns the roles an actor holds in an account, decided from the
// events: the actor acts as the active user of that account whose email is
// the token's email. Operators of the service hold every role. An actor
// with no active user in the account gets ErrNotFound, so that nobody
// learns which accounts exist.
func (d Deps) rolesIn(ctx context.Context, accountID uuid.UUID, a Actor) ([]user.Role, error) {
	if a.Operator {
		return user.AllRoles, nil
	}
	if a.Email == "" {
		return nil, fmt.Errorf("account %s: %w", accountID, domain.ErrNotFound)
	}
	u, err := d.actorUser(ctx, accountID, a.Email)
	if err != nil {
		return nil, err
	}
	if u == nil || u.Status(d.now()) != user.Active {
		return nil, fmt.Errorf("account %s: %w", accountID, domain.ErrNotFound)
	}
	return u.Roles(), nil
}

// mayManageUsers checks that the actor may invite and manage users in the
// account, and grant each of the given roles.
func (d Deps) mayManageUsers(ctx context.Context, accountID uuid.UUID, a Actor, grants []string) error {
	held, err := d.managerRoles(ctx, accountID, a)
	if err != nil {
		return err
	}
	return mayGrant(held, grants)
}

// managerRoles returns the roles of an actor who may invite and manage
// users in the account.
func (d Deps) managerRoles(ctx context.Context, accountID uuid.UUID, a Actor) ([]user.Role, error) {
	held, err := d.rolesIn(ctx, accountID, a)
	if err != nil {
		return nil, err
	}
	if !user.ManagesUsers(held) {
		return nil, fmt.Errorf("managing users needs an account, agreement or user administrator: %w", domain.ErrForbidden)
	}
	return held, nil
}

// mayGrant checks that roles held may grant each of the given roles.
func mayGrant(held []user.Role, grants []string) error {
	for _, g := range grants {
		r, err := user.ParseRole(g)
		if err != nil {
			continue // the domain reports unknown roles as invalid input
		}
		if !user.CanGrant(held, r) {
			return fmt.Errorf("your roles may not grant %s: %w", r, domain.ErrForbidden)
		}
	}
	return nil
}

// actorName is how events record an actor.
func (a Actor) name() string {
	if a.Subject == "" {
		return "anonymous"
	}
	return a.Subject
}
