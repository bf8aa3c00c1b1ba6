package projections

import (
	_ "embed"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Partners builds the partners and subscriptions read model
// (partners.sql): partner organizations and their users, the partners
// serving each account, their visibility grants, and subscriptions with
// the partner that answers for each now. Inserts do nothing when the row
// exists and updates set values, so a replayed event changes nothing.
type Partners struct{}

//go:embed partners.sql
var partnersSchema string

// Name is permanent.
func (Partners) Name() string { return "partners" }

// Version changes whenever the tables or what Apply writes change.
func (Partners) Version() int { return 4 } // 4: email_lower is composed (NFC); 3: a Unicode domain in xn-- form (user.NormalizeEmail)

// Schema is the DDL of the tables.
func (Partners) Schema() string { return partnersSchema }

// Tables are what readers read.
func (Partners) Tables() []string {
	return []string{"rm_partners", "rm_partner_users", "rm_account_partners", "rm_channel_moves",
		"rm_partner_grants", "rm_subscriptions"}
}

// Apply implements Projector.
func (Partners) Apply(q *pgx.Batch, env event.Envelope) {
	switch e := env.Event.(type) {
	case partner.Registered:
		q.Queue(`INSERT INTO rm_partners (partner_id, name, registered_at) VALUES ($1, $2, $3)
			ON CONFLICT (partner_id) DO NOTHING`, e.PartnerID, e.Name, env.OccurredAt)
	case partner.UserAdded:
		q.Queue(`
			INSERT INTO rm_partner_users (partner_id, user_id, email, email_lower, first_name, last_name, roles, added_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (partner_id, user_id) DO NOTHING`,
			e.PartnerID, e.UserID, e.Email, user.NormalizeEmail(e.Email), e.FirstName, e.LastName, partnerRoles(e.Roles), env.OccurredAt)
	case partner.UserRolesChanged:
		q.Queue(`UPDATE rm_partner_users SET roles = $3 WHERE partner_id = $1 AND user_id = $2`,
			e.PartnerID, e.UserID, partnerRoles(e.Roles))
	case partner.UserRemoved:
		q.Queue(`DELETE FROM rm_partner_users WHERE partner_id = $1 AND user_id = $2`, e.PartnerID, e.UserID)
	case user.PersonalDataErased:
		// The same person may act for a partner: blank them here too, at
		// once, as the users projector does.
		erasePartnerUser(q, e.UserID)
	case partner.UserPersonalDataErased:
		erasePartnerUser(q, e.UserID)
	case account.PartnerAssociated:
		q.Queue(`INSERT INTO rm_account_partners (account_id, partner_id, associated_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, e.AccountID, e.PartnerID, env.OccurredAt)
	case account.ChannelPartnerChanged:
		changeChannel(q, env, e)
	case account.PartnerVisibilityGranted:
		q.Queue(`
			INSERT INTO rm_partner_grants (account_id, grantee_partner_id, source_partner_id, granted_at, granted_by)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`, e.AccountID, e.GranteePartnerID, e.SourcePartnerID, env.OccurredAt, e.GrantedBy)
	case account.PartnerVisibilityRevoked:
		q.Queue(`DELETE FROM rm_partner_grants WHERE account_id = $1 AND grantee_partner_id = $2 AND source_partner_id = $3`,
			e.AccountID, e.GranteePartnerID, e.SourcePartnerID)
	default:
		applySubscription(q, env)
	}
}

// changeChannel moves an account from one partner to another: who serves
// it, the grants (as account.MoveGrants does) and what the previous
// partner answered for.
func changeChannel(q *pgx.Batch, env event.Envelope, e account.ChannelPartnerChanged) {
	pos, _ := eventstore.ParsePosition(env.Position)
	q.Queue(`
		INSERT INTO rm_channel_moves (event_id, account_id, from_partner_id, to_partner_id, changed_at, changed_by, commit_pos, prepare_pos)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (event_id) DO NOTHING`,
		env.EventID, e.AccountID, e.FromPartnerID, e.ToPartnerID, env.OccurredAt, e.ChangedBy, int64(pos.Commit), int64(pos.Prepare))
	q.Queue(`DELETE FROM rm_account_partners WHERE account_id = $1 AND partner_id = $2`, e.AccountID, e.FromPartnerID)
	q.Queue(`INSERT INTO rm_account_partners (account_id, partner_id, associated_at) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, e.AccountID, e.ToPartnerID, env.OccurredAt)
	// As account.MoveGrants: the grants the previous partner held pass to
	// the new one (a self grant is left out, a duplicate of an existing
	// grant conflicts), then every grant naming the previous partner goes,
	// those to see its orders included. The copy is one-to-one on the rows
	// it reads, so no two of them collide with each other.
	q.Queue(`
		INSERT INTO rm_partner_grants (account_id, grantee_partner_id, source_partner_id, granted_at, granted_by)
		SELECT account_id, grantee, source, granted_at, granted_by FROM (
		    SELECT account_id, granted_at, granted_by,
		           CASE WHEN grantee_partner_id = $2::uuid THEN $3::uuid ELSE grantee_partner_id END AS grantee,
		           source_partner_id AS source
		      FROM rm_partner_grants
		     WHERE account_id = $1 AND grantee_partner_id = $2::uuid) g
		 WHERE grantee <> source
		ON CONFLICT DO NOTHING`, e.AccountID, e.FromPartnerID, e.ToPartnerID)
	q.Queue(`DELETE FROM rm_partner_grants WHERE account_id = $1 AND $2::uuid IN (grantee_partner_id, source_partner_id)`,
		e.AccountID, e.FromPartnerID)
	q.Queue(`UPDATE rm_subscriptions SET channel_partner_id = $3 WHERE account_id = $1 AND channel_partner_id = $2`,
		e.AccountID, e.FromPartnerID, e.ToPartnerID)
}

func partnerRoles(roles []partner.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}

// applySubscription applies the events of subscriptions.
func applySubscription(q *pgx.Batch, env event.Envelope) {
	switch e := env.Event.(type) {
	case subscription.Purchased:
		q.Queue(insertSubscription, e.SubscriptionID, e.AccountID, e.ProductID, e.ProductName, e.Name,
			e.OrderingPartnerID, e.BuyerUserID, e.PurchasedBy, e.PurchasedAt, e.ExpiresAt,
			e.Price.Amount, e.Price.Currency, e.TotalLicenses)
	case subscription.LicenseTotalChanged:
		q.Queue(`UPDATE rm_subscriptions SET total_licenses = $2 WHERE subscription_id = $1`, e.SubscriptionID, e.Total)
	case subscription.Cancelled:
		q.Queue(`UPDATE rm_subscriptions SET cancelled_at = $2, cancel_reason = $3, cancel_feedback = $4
			WHERE subscription_id = $1`, e.SubscriptionID, e.CancelledAt, string(e.Reason), e.Feedback)
	case subscription.Expired:
		q.Queue(`UPDATE rm_subscriptions SET expiry_recorded = true WHERE subscription_id = $1`, e.SubscriptionID)
	case subscription.LicensesAssigned:
		q.Queue(`UPDATE rm_subscriptions SET assigned_licenses = $2 WHERE subscription_id = $1`, e.SubscriptionID, e.AssignedLicenses)
	case subscription.LicensesUnassigned:
		q.Queue(`UPDATE rm_subscriptions SET assigned_licenses = $2 WHERE subscription_id = $1`, e.SubscriptionID, e.AssignedLicenses)
	}
}

// insertSubscription records a purchase. A purchase decided while its
// partner served the account may land in the log after a channel change
// moved the partner away: the channel partner is then where the moves
// recorded since lead. Unless the ordering partner ($6) serves the account
// now, the chain starts at the latest move out of it and follows, from
// each partner reached, the first later move out of that one; positions
// only grow, so the chain ends.
const insertSubscription = `
	WITH RECURSIVE chain (partner_id, commit_pos, prepare_pos) AS (
	    (SELECT to_partner_id, commit_pos, prepare_pos FROM rm_channel_moves
	      WHERE account_id = $2 AND from_partner_id = $6::uuid
	        AND NOT EXISTS (SELECT 1 FROM rm_account_partners WHERE account_id = $2 AND partner_id = $6::uuid)
	      ORDER BY commit_pos DESC, prepare_pos DESC LIMIT 1)
	  UNION ALL
	    SELECT n.to_partner_id, n.commit_pos, n.prepare_pos FROM chain c
	      CROSS JOIN LATERAL (SELECT m.to_partner_id, m.commit_pos, m.prepare_pos FROM rm_channel_moves m
	        WHERE m.account_id = $2 AND m.from_partner_id = c.partner_id
	          AND (m.commit_pos, m.prepare_pos) > (c.commit_pos, c.prepare_pos)
	        ORDER BY m.commit_pos, m.prepare_pos LIMIT 1) n
	)
	INSERT INTO rm_subscriptions (subscription_id, account_id, product_id, product_name, name,
	    ordering_partner_id, channel_partner_id, buyer_user_id, purchased_by, purchased_at, expires_at,
	    price_amount, currency, total_licenses)
	SELECT $1, $2, $3, $4, $5, $6::uuid,
	       coalesce((SELECT partner_id FROM chain ORDER BY commit_pos DESC, prepare_pos DESC LIMIT 1), $6::uuid),
	       $7, $8, $9, $10, $11::text::numeric, $12, $13
	ON CONFLICT (subscription_id) DO NOTHING`

// erasePartnerUser blanks a person's email and names at once, without
// waiting for a rebuild (which reads "[erased]" from the events).
func erasePartnerUser(q *pgx.Batch, id uuid.UUID) {
	q.Queue(`UPDATE rm_partner_users SET email = $2, email_lower = $2, first_name = $2, last_name = $2
		WHERE user_id = $1`, id, user.Erased)
}
