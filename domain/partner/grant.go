package partner

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
)

// Grantor is who adds, changes or removes a partner user: a user of the
// partner (ID and Roles), or a service operator (no ID, every role).
type Grantor struct {
	ID    uuid.UUID
	Roles []Role
	Name  string // as events record the actor
}

// mayTouch checks that a grantor may give or take these roles: global
// admin is given and taken by global admins only, so that a user
// management admin cannot raise anyone, themselves included, above their
// own rank.
func (g Grantor) mayTouch(roles []Role) error {
	if slices.Contains(roles, GlobalAdmin) && !slices.Contains(g.Roles, GlobalAdmin) {
		return fmt.Errorf("only a global admin gives or takes the global admin role: %w", domain.ErrForbidden)
	}
	return nil
}
