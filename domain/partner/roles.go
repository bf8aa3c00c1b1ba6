package partner

import (
	"fmt"
	"slices"
)

// Role is a partner-side role: what a partner's user may do for the
// partner's customers.
type Role string

const (
	GlobalAdmin         Role = "global_admin"
	AdminAgent          Role = "admin_agent"
	HelpdeskAgent       Role = "helpdesk_agent"
	SalesAgent          Role = "sales_agent"
	UserManagementAdmin Role = "user_management_admin"
	// PartnerNetworkAdmin manages the partner-network membership's
	// go-to-market benefits (docs/roles.md).
	PartnerNetworkAdmin Role = "partner_network_admin"
)

// AllRoles in a fixed order, the broadest first.
var AllRoles = []Role{GlobalAdmin, AdminAgent, HelpdeskAgent, SalesAgent, UserManagementAdmin, PartnerNetworkAdmin}

// Actions a partner role allows; see docs/roles.md.
type Action string

const (
	// ManageUsers: add partner users, change their roles, remove them.
	ManageUsers Action = "manage_users"
	// Order: buy subscriptions for a customer and change or cancel what
	// the partner sold.
	Order Action = "order"
	// ManageCustomerAdmin: resend the purchase account manager's
	// invitation, designate another manager, change the manager's email.
	ManageCustomerAdmin Action = "manage_customer_admin"
	// View: read the customers the partner serves and what it may see.
	View Action = "view"
	// AssignBenefits: assign the benefits of the partner's membership
	// packages to its people (get keys, assign users, cancel a package).
	AssignBenefits Action = "assign_benefits"
	// ManageGoToMarket: set the marketing contact, activate go-to-market
	// benefits.
	ManageGoToMarket Action = "manage_go_to_market"
)

var allowed = map[Role][]Action{
	GlobalAdmin:         {ManageUsers, Order, ManageCustomerAdmin, View, AssignBenefits, ManageGoToMarket},
	AdminAgent:          {Order, ManageCustomerAdmin, View},
	SalesAgent:          {Order, View},
	HelpdeskAgent:       {ManageCustomerAdmin, View},
	UserManagementAdmin: {ManageUsers, View},
	PartnerNetworkAdmin: {ManageGoToMarket, View},
}

// Allows reports whether any of the roles allows an action.
func Allows(held []Role, a Action) bool {
	for _, r := range held {
		if slices.Contains(allowed[r], a) {
			return true
		}
	}
	return false
}

// ParseRoles validates, de-duplicates and orders roles; the reason when
// they are not acceptable, and where it lies when it lies in one role:
// "[i]", to follow the field's name (roles[2]), the JSON path of the bad
// value.
func ParseRoles(in []string) (roles []Role, at, reason string) {
	if len(in) == 0 {
		return nil, "", "at least one role is required"
	}
	var out []Role
	for i, s := range in {
		r := Role(s)
		if !slices.Contains(AllRoles, r) {
			return nil, fmt.Sprintf("[%d]", i), fmt.Sprintf("unknown partner role %q", s)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Role) int { return slices.Index(AllRoles, a) - slices.Index(AllRoles, b) })
	return out, "", ""
}
