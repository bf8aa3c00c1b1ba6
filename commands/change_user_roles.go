package commands

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// ChangeUserRoles saves a whole new set of roles for a user. The actor must
// be able to grant every role added or removed, and the account keeps at
// least one active Account Administrator.
type ChangeUserRoles struct {
	By        Actor
	AccountID uuid.UUID
	UserID    uuid.UUID
	Roles     []string
}

// UserRolesChanged is the answer.
type UserRolesChanged struct {
	Roles    []user.Role
	Position eventstore.Position
}

// ChangeUserRolesHandler handles ChangeUserRoles. It runs in the
// account's turn (AccountSerial), as the purchases, subscription changes
// and license commands of the account do, which check their caller's
// roles under it: what a user demoted was doing there is recorded
// before, or refused as for anyone without the role.
func ChangeUserRolesHandler(d Deps) Handler[ChangeUserRoles, UserRolesChanged] {
	return HandlerFunc[ChangeUserRoles, UserRolesChanged](func(ctx context.Context, c ChangeUserRoles) (UserRolesChanged, error) {
		return serialized(ctx, d.AccountSerial, c.AccountID, func(ctx context.Context) (UserRolesChanged, error) {
			return d.changeUserRoles(ctx, c)
		})
	})
}

func (d Deps) changeUserRoles(ctx context.Context, c ChangeUserRoles) (UserRolesChanged, error) {
	return retried(ctx, func() (UserRolesChanged, error) {
		var u user.User
		l, err := load(ctx, d, user.Stream(c.UserID), &u)
		if err != nil {
			return UserRolesChanged{}, err
		}
		if !u.Exists() || u.Account() != c.AccountID {
			// Checked before the actor's rights would say 403, so no
			// caller learns of users in other accounts.
			if _, err := d.rolesIn(ctx, c.AccountID, c.By); err != nil {
				return UserRolesChanged{}, err
			}
			return UserRolesChanged{}, fmt.Errorf("user %s: %w", c.UserID, domain.ErrNotFound)
		}
		by := origin{actor: c.By.name(), at: d.now()}
		if first, ok := mine[user.RolesChanged](l); ok {
			// An earlier run saved the change: finish its grant and
			// answer as it did.
			if slices.Contains(first.Added, user.AccountAdministrator) {
				if err := d.grantAdministrator(ctx, c.AccountID, c.UserID, by); err != nil {
					return UserRolesChanged{}, err
				}
			}
			return UserRolesChanged{Roles: first.Roles, Position: l.answered()}, nil
		}
		// The caller's rights come before the body, as for inviting.
		held, err := d.managerRoles(ctx, c.AccountID, c.By)
		if err != nil {
			return UserRolesChanged{}, err
		}
		changed, err := u.ChangeRoles(c.Roles, by.actor, by.at)
		if err != nil {
			return UserRolesChanged{}, err
		}
		if changed == nil {
			return UserRolesChanged{Roles: u.Roles(), Position: l.answered()}, nil
		}
		if err := mayGrant(held, roleNames(changed.Added)); err != nil {
			return UserRolesChanged{}, err
		}
		if err := d.notSelfRaised(ctx, c, held, changed.Added); err != nil {
			return UserRolesChanged{}, err
		}
		if err := mayTakeAway(held, roleNames(changed.Removed)); err != nil {
			return UserRolesChanged{}, err
		}
		if slices.Contains(changed.Removed, user.AccountAdministrator) {
			if err := d.revokeAdministrator(ctx, c.AccountID, &u, by); err != nil {
				return UserRolesChanged{}, err
			}
		}
		res, err := save(ctx, d, user.Stream(c.UserID), l, by, *changed)
		if err != nil {
			return UserRolesChanged{}, err
		}
		if slices.Contains(changed.Added, user.AccountAdministrator) {
			if err := d.grantAdministrator(ctx, c.AccountID, c.UserID, by); err != nil {
				return UserRolesChanged{}, err
			}
		}
		return UserRolesChanged{Roles: changed.Roles, Position: res.Position}, nil
	})
}

// notSelfRaised refuses a caller adding roles to themselves unless they
// hold Account Administrator, which already reaches everything (and
// whose holder steps down by a new set with a lower role). A User or
// Agreement Administrator gave themselves Account Manager, or a viewer
// role, and with it the orders, purchases and billing their own roles
// do not reach. Taking their own roles away stays theirs to do; adding
// one is another administrator's call, as on the partner side.
func (d Deps) notSelfRaised(ctx context.Context, c ChangeUserRoles, held, added []user.Role) error {
	if len(added) == 0 || c.By.Operator || slices.Contains(held, user.AccountAdministrator) {
		return nil
	}
	me, err := d.actorUser(ctx, c.AccountID, c.By.Email)
	if err != nil {
		return err
	}
	if me != nil && me.ID() == c.UserID {
		return fmt.Errorf("nobody adds roles to themselves; another administrator may: %w", domain.ErrForbidden)
	}
	return nil
}

func roleNames(roles []user.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// grantAdministrator records a new administrator on the account stream
// if the user still holds the role; its callers run it in the account's
// turn (AccountSerial), as every change of roles runs. The grant follows
// a role given in another append (an invitation, or a change of roles,
// perhaps by an earlier run): a demotion recorded since found no grant to
// revoke, and the grant must not list the user after it.
func (d Deps) grantAdministrator(ctx context.Context, accountID, userID uuid.UUID, by origin) error {
	_, err := retried(ctx, func() (struct{}, error) {
		a, l, err := d.loadAccount(ctx, accountID)
		if err != nil {
			return struct{}{}, err
		}
		var u user.User
		if _, err := loadWith(ctx, d, user.Stream(userID), &u, nil); err != nil { // roles are not personal
			return struct{}{}, err
		}
		// An erased user acts as nobody: an earlier run's grant, finished
		// after the erasure revoked it, must not count them again.
		if u.Account() != accountID || !slices.Contains(u.Roles(), user.AccountAdministrator) || u.Erased() {
			return struct{}{}, nil
		}
		if g := a.GrantAdministrator(userID, by.actor); g != nil {
			_, err = save(ctx, d, account.Stream(accountID), l, by, *g)
		}
		return struct{}{}, err
	})
	return err
}

// actsAt reports whether u acts for the account at a moment: active, and
// neither erased nor being erased (their key gone: their email reads
// "[erased]", so they act as nobody).
func actsAt(u *user.User, at time.Time) bool {
	return u.Status(at) == user.Active && !u.Erased() && !u.Erasing()
}

// revokeAdministrator removes the leaving administrator from the account
// stream, refusing to remove the last one who acts (actsAt), when the
// leaving one does: an erased user's email reads "[erased]", so they act
// as nobody, and one who leaves while acting for nobody leaves whatever
// remains. Its callers run it in the account's turn, and the
// append expects the revision read, so two concurrent removals (a
// demotion and an erasure, or two of either) cannot both pass the check.
func (d Deps) revokeAdministrator(ctx context.Context, accountID uuid.UUID, leaving *user.User, by origin) error {
	userID := leaving.ID()
	a, l, err := d.loadAccount(ctx, accountID)
	if err != nil {
		return err
	}
	others := 0
	for _, id := range a.Administrators() {
		if id == userID {
			continue
		}
		var admin user.User
		if _, err := load(ctx, d, user.Stream(id), &admin); err != nil {
			return err
		}
		if actsAt(&admin, by.at) && slices.Contains(admin.Roles(), user.AccountAdministrator) {
			others++
		}
	}
	r, err := a.RevokeAdministrator(userID, actsAt(leaving, by.at), others, by.actor)
	if err != nil || r == nil {
		return err
	}
	_, err = save(ctx, d, account.Stream(accountID), l, by, []event.Event{*r}...)
	return err
}
