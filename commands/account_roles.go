package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/user"
)

// AccountRoles asks which roles a caller holds in an account.
type AccountRoles struct {
	By        Actor
	AccountID uuid.UUID
}

// AccountRolesHandler answers AccountRoles from the events, as every
// command decides its caller's rights (rolesIn). It is for the routes
// that write elsewhere than the event store (the webhooks): decided from
// the users read model, their rights would follow a change of roles only
// once the projector caught up with it, and a demoted administrator
// could go on for as long as it lags. A caller who acts for nobody of
// the account gets ErrNotFound; an operator, every role of an account
// that exists (ErrNotFound for one that does not: what they register
// there would wait for events that never come).
func AccountRolesHandler(d Deps) Handler[AccountRoles, []user.Role] {
	return HandlerFunc[AccountRoles, []user.Role](func(ctx context.Context, q AccountRoles) ([]user.Role, error) {
		if q.By.Operator {
			if err := d.accountExists(ctx, q.AccountID); err != nil {
				return nil, err
			}
		}
		return d.rolesIn(ctx, q.AccountID, q.By)
	})
}
