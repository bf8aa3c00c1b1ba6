package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// ResendInvitation sends a pending or expired user a new invitation, valid
// for a new 60 days; the previous link stops working.
type ResendInvitation struct {
	By        Actor
	AccountID uuid.UUID
	UserID    uuid.UUID
}

// InvitationResent is the answer.
type InvitationResent struct {
	ExpiresAt time.Time
	Position  eventstore.Position
}

// ResendInvitationHandler handles ResendInvitation. A partner's user
// resends the manager's in the account's turn, sharing the partner's
// (asManagerPartner). Run again with its idempotency key, it answers as
// an earlier run that resent did, before it checks the caller's rights.
func ResendInvitationHandler(d Deps) Handler[ResendInvitation, InvitationResent] {
	return HandlerFunc[ResendInvitation, InvitationResent](func(ctx context.Context, c ResendInvitation) (InvitationResent, error) {
		first, err := keep[user.User](ctx, d, user.Stream(c.UserID))
		if err != nil {
			return InvitationResent{}, err
		}
		l := first.read()
		if resent, ok := mine[user.InvitationResent](l); ok {
			return InvitationResent{ExpiresAt: resent.ExpiresAt, Position: l.answered()}, nil
		}
		held, customerErr := d.managerRoles(ctx, c.AccountID, c.By)
		if customerErr == nil {
			return d.resendInvitation(ctx, c, first, held)
		}
		if !d.isManager(ctx, c.AccountID, c.UserID) {
			return InvitationResent{}, customerErr
		}
		asPartner := false
		res, err := asManagerPartner(ctx, d, c.AccountID, c.By, func(ctx context.Context, _ *partner.Partner) (InvitationResent, error) {
			asPartner = true
			// Again in the account's turn: another manager designated
			// meanwhile takes the partner's right to resend this user's.
			if !d.isManager(ctx, c.AccountID, c.UserID) {
				return InvitationResent{}, customerErr
			}
			// The user as read before the turn will do: the turn
			// guards who the manager is (read in it), not the user's
			// stream. Should that have moved since, the append
			// conflicts, and the next try reads it in the turn.
			return d.resendInvitation(ctx, c, first, nil)
		})
		if !asPartner && (errors.Is(err, domain.ErrNotFound) || errors.Is(customerErr, domain.ErrForbidden)) {
			// Neither the customer's nor a partner's: the customer's
			// answer, which for one of its users names the role they
			// lack to resend (not the partner's right to).
			return InvitationResent{}, customerErr
		}
		return res, err
	})
}

// resendInvitation resends, its first try taking first's read of the
// user (see loadKept), when there is one. held are the roles of a
// customer's administrator resending: a resend invites again, with the
// roles the user was invited to, so it needs the right to grant each of
// them, as inviting does (an expired Account Administrator's invitation
// is no User Administrator's to renew). nil: a partner resending the
// manager's, whose right comes from serving the account.
func (d Deps) resendInvitation(ctx context.Context, c ResendInvitation, first *kept[user.User], held []user.Role) (InvitationResent, error) {
	return retried(ctx, func() (InvitationResent, error) {
		u, l, err := loadKept(ctx, d, first, user.Stream(c.UserID))
		if err != nil {
			return InvitationResent{}, err
		}
		if !u.Exists() || u.Account() != c.AccountID {
			return InvitationResent{}, fmt.Errorf("user %s: %w", c.UserID, domain.ErrNotFound)
		}
		if held != nil {
			if err := mayGrant(held, roleNames(u.Roles())); err != nil {
				return InvitationResent{}, err
			}
		}
		by := origin{actor: c.By.name(), at: d.now()}
		resent, err := u.Resend(d.newInvitation(ctx, by))
		if err != nil {
			return InvitationResent{}, err
		}
		res, err := save(ctx, d, user.Stream(c.UserID), l, by, resent)
		if err != nil {
			return InvitationResent{}, err
		}
		return InvitationResent{ExpiresAt: resent.ExpiresAt, Position: res.Position}, nil
	})
}

// isManager reports whether the user is the account's purchase account
// manager, on whom a partner serving the account may act.
func (d Deps) isManager(ctx context.Context, accountID, userID uuid.UUID) bool {
	acc, _, err := d.loadAccount(ctx, accountID)
	if err != nil {
		return false
	}
	manager, _ := acc.Manager()
	return manager == userID
}
