package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
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

// ResendInvitationHandler handles ResendInvitation.
func ResendInvitationHandler(d Deps) Handler[ResendInvitation, InvitationResent] {
	return HandlerFunc[ResendInvitation, InvitationResent](func(ctx context.Context, c ResendInvitation) (InvitationResent, error) {
		if err := d.mayManageUsers(ctx, c.AccountID, c.By, nil); err != nil {
			if !d.partnerOfManager(ctx, c.AccountID, c.UserID, c.By) {
				return InvitationResent{}, err
			}
		}
		return retried(ctx, func() (InvitationResent, error) {
			var u user.User
			l, err := load(ctx, d, user.Stream(c.UserID), &u)
			if err != nil {
				return InvitationResent{}, err
			}
			if !u.Exists() || u.Account() != c.AccountID {
				return InvitationResent{}, fmt.Errorf("user %s: %w", c.UserID, domain.ErrNotFound)
			}
			if first, ok := mine[user.InvitationResent](l); ok {
				return InvitationResent{ExpiresAt: first.ExpiresAt, Position: l.answered()}, nil
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
	})
}

// partnerOfManager reports whether the actor may act for a partner serving
// the account on its purchase account manager, the user given.
func (d Deps) partnerOfManager(ctx context.Context, accountID, userID uuid.UUID, a Actor) bool {
	acc, _, err := d.loadAccount(ctx, accountID)
	if err != nil {
		return false
	}
	if manager, _ := acc.Manager(); manager != userID {
		return false
	}
	_, err = d.mayActOnManager(ctx, accountID, a)
	return err == nil
}
