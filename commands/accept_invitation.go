package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// AcceptInvitation activates the user an invitation token names, while the
// invitation has not expired. Accepting again is harmless.
type AcceptInvitation struct {
	Token string
}

// InvitationAccepted is the answer.
type InvitationAccepted struct {
	AccountID uuid.UUID
	UserID    uuid.UUID
	Position  eventstore.Position
}

// AcceptInvitationHandler handles AcceptInvitation.
func AcceptInvitationHandler(d Deps) Handler[AcceptInvitation, InvitationAccepted] {
	return HandlerFunc[AcceptInvitation, InvitationAccepted](func(ctx context.Context, c AcceptInvitation) (InvitationAccepted, error) {
		userID, secret, err := user.ParseToken(c.Token)
		if errors.Is(err, user.ErrMalformedToken) {
			return InvitationAccepted{}, fmt.Errorf("invitation token: %w", domain.ErrNotFound)
		}
		return retried(ctx, func() (InvitationAccepted, error) {
			var u user.User
			l, err := load(ctx, d, user.Stream(userID), &u)
			if err != nil {
				return InvitationAccepted{}, err
			}
			now := d.now()
			events, err := u.Accept(secret, now)
			if err != nil {
				return InvitationAccepted{}, fmt.Errorf("invitation token: %w", err)
			}
			out := InvitationAccepted{AccountID: u.Account(), UserID: userID, Position: l.answered()}
			if len(events) == 0 {
				return out, nil
			}
			res, err := save(ctx, d, user.Stream(userID), l, origin{actor: "user:" + userID.String(), at: now}, events...)
			if err != nil {
				return InvitationAccepted{}, err
			}
			out.Position = res.Position
			return out, nil
		})
	})
}
