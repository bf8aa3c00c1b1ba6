package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/user"
)

// loadAccount loads an account that must exist.
func (d Deps) loadAccount(ctx context.Context, id uuid.UUID) (*account.Account, loaded, error) {
	return d.keptAccount(ctx, id, nil)
}

// keptAccount is loadAccount taking first's read of the account (see
// loadKept), when there is one.
func (d Deps) keptAccount(ctx context.Context, id uuid.UUID, first *kept[account.Account]) (*account.Account, loaded, error) {
	a, l, err := loadKept(ctx, d, first, account.Stream(id))
	if err != nil {
		return nil, l, err
	}
	if !a.Exists() {
		return nil, l, fmt.Errorf("account %s: %w", id, domain.ErrNotFound)
	}
	return a, l, nil
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

// accountNotFound is what a caller who may not act in an account learns
// of it: the same as of an account that does not exist. A partner named
// by someone who is not its user, or that does not serve the account, is
// refused with it too, so that no one learns from the answer which
// accounts exist or which partners serve them.
func accountNotFound(id uuid.UUID) error { return fmt.Errorf("account %s: %w", id, domain.ErrNotFound) }

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
func mayGrant(held []user.Role, grants []string) error { return mayChange(held, grants, "grant") }

// mayTakeAway checks that roles held may take each of the given roles
// away: those they may grant.
func mayTakeAway(held []user.Role, roles []string) error { return mayChange(held, roles, "take away") }

func mayChange(held []user.Role, roles []string, verb string) error {
	for _, g := range roles {
		r, err := user.ParseRole(g)
		if err != nil {
			continue // the domain reports unknown roles as invalid input
		}
		if !user.CanGrant(held, r) {
			return fmt.Errorf("your roles may not %s %s: %w", verb, r, domain.ErrForbidden)
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
