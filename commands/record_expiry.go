package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/user"
)

// RecordInvitationExpiry appends user.invitation_expired once for a user
// whose current invitation passed its 60 days. Several sweepers may run it
// for the same user at once: the append expects the revision read, so one
// writes and the others find it already recorded.
type RecordInvitationExpiry struct {
	UserID uuid.UUID
}

// RecordInvitationExpiryHandler handles RecordInvitationExpiry; it reports
// whether it appended.
func RecordInvitationExpiryHandler(d Deps) Handler[RecordInvitationExpiry, bool] {
	return HandlerFunc[RecordInvitationExpiry, bool](func(ctx context.Context, c RecordInvitationExpiry) (bool, error) {
		return retried(ctx, func() (bool, error) {
			var u user.User
			l, err := load(ctx, d, user.Stream(c.UserID), &u)
			if err != nil {
				return false, err
			}
			now := d.now()
			expired := u.RecordExpiry(now)
			if expired == nil {
				return false, nil
			}
			_, err = save(ctx, d, user.Stream(c.UserID), l, origin{actor: "system", at: now}, *expired)
			return err == nil, err
		})
	})
}
