package commands

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// InviteUser invites a person into a purchase account with one or more
// roles. The email must not already be a user of the account.
type InviteUser struct {
	By        Actor
	AccountID uuid.UUID
	Profile   user.Profile
}

// UserInvited is the answer.
type UserInvited struct {
	UserID    uuid.UUID
	ExpiresAt time.Time
	Position  eventstore.Position
}

// InviteUserHandler handles InviteUser. Run again with its idempotency
// key, it finds the user an earlier run invited before it checks the
// caller's rights, and answers as that run did, finishing its grant.
func InviteUserHandler(d Deps) Handler[InviteUser, UserInvited] {
	return HandlerFunc[InviteUser, UserInvited](func(ctx context.Context, c InviteUser) (UserInvited, error) {
		by := origin{actor: c.By.name(), at: d.now()}
		userID := d.newID(ctx, "user")
		l, err := d.earlierRun(ctx, user.Stream(userID))
		if err != nil {
			return UserInvited{}, err
		}
		invited, done := mine[user.Invited](l)
		pos := l.answered()
		if !done {
			if invited, pos, err = d.invite(ctx, c, userID, by); err != nil {
				return UserInvited{}, err
			}
		}
		if slices.Contains(invited.Roles, user.AccountAdministrator) {
			// In the account's turn, which a change of roles takes: a
			// demotion of the new user comes wholly before the grant,
			// which then finds the role gone, or after it, and revokes.
			// Outside it, a demotion between the invitation and the grant
			// found nothing to revoke, and the grant then listed an
			// administrator without the role.
			if _, err := serialized(ctx, d.AccountSerial, c.AccountID, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, d.grantAdministrator(ctx, c.AccountID, invited.UserID, by)
			}); err != nil {
				return UserInvited{}, err
			}
		}
		return UserInvited{UserID: invited.UserID, ExpiresAt: invited.ExpiresAt, Position: pos}, nil
	})
}

// invite checks the caller's rights and invites the user.
func (d Deps) invite(ctx context.Context, c InviteUser, userID uuid.UUID, by origin) (user.Invited, eventstore.Position, error) {
	// A user's own account exists: only an operator's needs a look.
	if c.By.Operator {
		if err := d.accountExists(ctx, c.AccountID); err != nil {
			return user.Invited{}, eventstore.Position{}, err
		}
	}
	if err := d.mayManageUsers(ctx, c.AccountID, c.By, c.Profile.Roles); err != nil {
		return user.Invited{}, eventstore.Position{}, err
	}
	invited, res, err := d.inviteAs(ctx, c.AccountID, userID, c.Profile, by)
	return invited, res.Position, err
}
