package licensing

import (
	"slices"

	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
)

// PartnerAssigners are the partner-side roles that may assign and revoke
// the licenses of what their partner answers for (seed 004): admin agent,
// global admin, helpdesk agent, sales agent, user management admin.
var PartnerAssigners = []partner.Role{partner.GlobalAdmin, partner.AdminAgent, partner.HelpdeskAgent, partner.SalesAgent, partner.UserManagementAdmin}

// CustomerAssigners are the customer roles that may assign and revoke
// licenses: those of self-service provisioning.
var CustomerAssigners = []user.Role{user.AccountAdministrator, user.AccountManager}

// PartnerMayAssign reports whether partner roles allow assigning.
func PartnerMayAssign(held []partner.Role) bool {
	return slices.ContainsFunc(held, func(r partner.Role) bool { return slices.Contains(PartnerAssigners, r) })
}
