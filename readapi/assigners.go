package readapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// PartnerAssignerRoles are the partner roles that assign licenses (seed
// 004), as domain/licensing.PartnerAssigners has them: readapi may not
// import it, and a service test holds the two the same.
var PartnerAssignerRoles = []string{"global_admin", "admin_agent", "helpdesk_agent", "sales_agent", "user_management_admin"}

// partnerAssigns5SQL: the viewer ($3 email, $4 operator) is a user of
// partner $5 with one of PartnerAssignerRoles.
var partnerAssigns5SQL = `($4::boolean OR EXISTS (SELECT 1 FROM rm_partner_users pv
	  WHERE pv.partner_id = $5::uuid AND pv.email_lower = $3::text
	    AND pv.roles && ARRAY['` + strings.Join(PartnerAssignerRoles, "', '") + `']::text[]))`

// assignerRequest names an account as the reads of a bulk license
// assignment ask for it: its users to choose from and its entitlements.
// With ?partnerId, as the POST .../licenses/assign body's partnerId, the
// viewer reads for that partner.
type assignerRequest struct {
	accountRequest
	partnerID uuid.UUID // uuid.Nil: as a member of the account or an operator
}

// partnerIDQuery documents ?partnerId on the routes of assignerRequest.
var partnerIDQuery = "read as a user of this partner, which serves the account, with a partner role that assigns licenses (" +
	strings.Join(PartnerAssignerRoles, ", ") + ")"

func parseAssigner(in *input, p kit.Principal) assignerRequest {
	q := assignerRequest{accountRequest: parseAccount(in, p)}
	if s := in.values.Get("partnerId"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil || id == uuid.Nil {
			in.fail("partnerId", "must be a UUID")
		}
		q.partnerID = id
		// Reading for a partner reads its users and the subscriptions
		// it sees (members and operators may read rm_users alone).
		in.alsoReads(partnersProjector)
	}
	return q
}

// access is subScope's access condition, narrowed for a partner to its
// users whose roles assign licenses, and its arguments (accountArgs, then
// the partner's id).
func (q assignerRequest) access(now time.Time) (string, []any) {
	access, _, args := subScope(q.accountRequest, q.partnerID, now)
	if q.partnerID != uuid.Nil {
		access += ` AND ` + partnerAssigns5SQL
	}
	return access, args
}

// mayRead answers errNotFound unless the viewer may read the account as
// the request asks. access binds accountArgs, so $2 (now) is typed here.
func (q assignerRequest) mayRead(ctx context.Context, db querier, now time.Time) error {
	access, args := q.access(now)
	err := db.QueryRow(ctx, `SELECT WHERE $2::timestamptz IS NOT NULL AND `+access, args...).Scan()
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotFound
	}
	return err
}

// visibleSubs is the condition on the account's subscriptions s that the
// request reads, binding the partner's id after args: every one for a
// member or an operator, for a partner those it sees (partnerSees).
func (q assignerRequest) visibleSubs(args ...any) (string, []any) {
	if q.partnerID == uuid.Nil {
		return `s.account_id = $1`, args
	}
	args = append(args, q.partnerID)
	return `s.account_id = $1 AND ` + partnerSees(fmt.Sprintf("$%d", len(args))), args
}
