package readapi

import "github.com/bizcenter/bizcenter/httpapi/kit"

// partnersProjector is the checkpoint name of the projector that keeps
// rm_partners, rm_partner_users, rm_account_partners, rm_partner_grants
// and rm_subscriptions.
const partnersProjector = "partners"

// PartnerViewer is the access of partner routes: a signed-in principal
// whose email is a user of the partner, or an operator. Anyone else is
// answered 404, so a partner's existence is never revealed.
const PartnerViewer kit.Access = "partner viewer"

// partnerGet completes a partner route as get does a member route.
func partnerGet(r kit.Route) kit.Route {
	r.Access = PartnerViewer
	r = get(r)
	r.Statuses = memberStatuses
	return r
}
