package readapi

import (
	"context"
	"net/http"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

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

// afterIn is a parsed request with the ?after position it carries.
type afterIn[In any] struct {
	in    In
	after eventstore.Position
}

// partnersEndpoint is endpoint for routes that read the partners read
// model: endpoint waits for the users projector, and these wait for the
// partners projector too, since each projector has its own checkpoint.
func partnersEndpoint[In, Out any](d Deps, parse func(*input, kit.Principal) In, run func(context.Context, In) (Out, error)) http.HandlerFunc {
	return endpoint(d, func(in *input, p kit.Principal) afterIn[In] {
		return afterIn[In]{in: parse(in, p), after: in.position()}
	}, func(ctx context.Context, q afterIn[In]) (Out, error) {
		if err := d.waitProjector(ctx, partnersProjector, q.after); err != nil {
			var zero Out
			return zero, err
		}
		return run(ctx, q.in)
	})
}
