package readapi

import (
	"context"
	"net/http"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// The customer roles that read more than the account and its users, as
// seed 001's table of roles has them: billing is the Account
// Administrators' and Account Managers' (who edit agreements and pay);
// orders and license details are also the Reports Viewers' and Account
// Viewers'. An Agreement Administrator (who views agreement information
// and manages users) and a User Administrator (who manages users) read
// neither.
var (
	billingRoles = []string{"account_administrator", "account_manager"}
	orderRoles   = []string{"account_administrator", "account_manager", "reports_viewer", "account_viewer"}
)

// OrderReader is the access of the routes that show an account's
// subscriptions and licenses to the customer: its active users holding
// one of orderRoles, and operators. Other members get 403, anyone else
// 404. (With ?partnerId, the license routes read as the partner's users.)
const OrderReader kit.Access = "order reader"

// orderGet completes an order route as get does a member route.
func orderGet(r kit.Route) kit.Route { return roleGet(r, OrderReader) }

// roleGet completes a route as get does a member route, for members of
// some roles (access): the others get 403.
func roleGet(r kit.Route, access kit.Access) kit.Route {
	r.Access = access
	r = get(r)
	r.Statuses = append(memberStatuses[:len(memberStatuses):len(memberStatuses)], http.StatusForbidden)
	return r
}

// mayReadOrders answers errNotFound unless the viewer sees the account,
// and 403 unless they read its orders and license details.
func mayReadOrders(ctx context.Context, db querier, q accountRequest) error {
	return mayReadAs(ctx, db, q, orderRoles,
		"subscriptions and licenses are read by Account Administrators, Account Managers, Reports Viewers and Account Viewers")
}

// mayReadAs answers errNotFound unless the viewer is an operator or an
// active user of the account, and 403 (why) unless they also hold one of
// roles.
func mayReadAs(ctx context.Context, db querier, q accountRequest, roles []string, why string) error {
	var member, reads bool
	err := db.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM rm_accounts a WHERE a.account_id = $1) AND ($3::boolean OR EXISTS (SELECT 1 FROM rm_users m
		         WHERE m.account_id = $1 AND m.email_lower = $2::text AND m.status = 'active')),
		       $3::boolean OR EXISTS (SELECT 1 FROM rm_users m
		         WHERE m.account_id = $1 AND m.email_lower = $2::text AND m.status = 'active' AND m.roles && $4::text[])`,
		q.accountID, q.viewer.email, q.viewer.operator, roles).Scan(&member, &reads)
	switch {
	case err != nil:
		return err
	case !member:
		return errNotFound
	case !reads:
		return kit.NewProblem(http.StatusForbidden, "forbidden", why)
	}
	return nil
}
