package readapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// The status of a subscription, decided at query time ($2 is now):
	// cancelled if cancelled, else expired from expires_at on or once its
	// expiry is recorded (whatever now is, as the commands decide), else
	// active.
	subCancelledSQL = `(s.cancelled_at IS NOT NULL)`
	subExpiredSQL   = `(s.cancelled_at IS NULL AND (s.expiry_recorded OR s.expires_at <= $2::timestamptz))`
	subActiveSQL    = `(s.cancelled_at IS NULL AND NOT s.expiry_recorded AND s.expires_at > $2::timestamptz)`
	subStatusSQL    = `(CASE WHEN ` + subCancelledSQL + ` THEN 'cancelled' WHEN ` + subExpiredSQL + ` THEN 'expired' ELSE 'active' END)`

	// subCountsSQL are SubscriptionCounts over rows s.
	subCountsSQL = `count(*), count(*) FILTER (WHERE ` + subActiveSQL + `),
	  count(*) FILTER (WHERE ` + subCancelledSQL + `), count(*) FILTER (WHERE ` + subExpiredSQL + `)`

	// subFrom joins what a Subscription shows besides its own row: partner
	// names, and the buyer's name as it is now. The buyer is looked up by
	// id, fenced off (OFFSET 0) from the account filter: as a plain join,
	// the generic plan pgx's cached statement gets after five runs read
	// every user of the account for each subscription (0.7 to 1.3 s a
	// page at 200,000 users, against 1 ms).
	subFrom = `rm_subscriptions s
	  LEFT JOIN rm_partners op ON op.partner_id = s.ordering_partner_id
	  LEFT JOIN rm_partners cp ON cp.partner_id = s.channel_partner_id
	  LEFT JOIN LATERAL (SELECT u.user_id, u.first_name, u.last_name FROM rm_users u
	    WHERE u.user_id = s.buyer_user_id AND u.account_id = s.account_id OFFSET 0) bu ON true
	  LEFT JOIN rm_partner_users bp ON bp.partner_id = s.ordering_partner_id AND bp.user_id = s.buyer_user_id`

	// subColumns are what scanSub reads from subFrom. A buyer no longer
	// found (a removed partner user) shows as the recorded purchaser.
	subColumns = `s.subscription_id::text, s.account_id::text, s.product_id, s.product_name, s.name,
	  s.ordering_partner_id::text, op.name, s.channel_partner_id::text, cp.name, s.buyer_user_id::text,
	  coalesce(bu.first_name || ' ' || bu.last_name, bp.first_name || ' ' || bp.last_name, s.purchased_by),
	  CASE WHEN s.buyer_user_id IS NULL THEN 'operator' WHEN bu.user_id IS NOT NULL THEN 'customer'
	       WHEN bp.user_id IS NOT NULL OR s.ordering_partner_id IS NOT NULL THEN 'partner' ELSE 'customer' END,
	  s.purchased_at, s.expires_at, s.price_amount::text, s.currency, s.assigned_licenses, s.total_licenses,
	  ` + subStatusSQL + `, s.cancelled_at, coalesce(s.cancel_reason, ''), coalesce(s.cancel_feedback, ''),
	  lower(s.name), lower(s.product_name)`

	// partnerViewer5SQL: the viewer ($3 email, $4 operator) is a partner
	// viewer of partner $5.
	partnerViewer5SQL = `($4::boolean OR EXISTS (SELECT 1 FROM rm_partner_users pv
	  WHERE pv.partner_id = $5::uuid AND pv.email_lower = $3::text))`
)

// partnerSees: the partner of placeholder p sees subscription s of account
// $1: it answers for it, or the customer granted it the visibility of the
// partner that does.
func partnerSees(p string) string {
	return `(s.channel_partner_id = ` + p + `::uuid OR s.channel_partner_id IN (SELECT g.source_partner_id
	  FROM rm_partner_grants g WHERE g.account_id = $1 AND g.grantee_partner_id = ` + p + `::uuid))`
}

// subScope is whose subscriptions a request reads: the condition that
// holds when the viewer may read them (else 404), the condition on rows s,
// and their arguments (accountArgs, then the partner's id).
func subScope(q accountRequest, partnerID uuid.UUID, now time.Time) (access, visible string, args []any) {
	args = accountArgs(q.accountID, now, q.viewer)
	if partnerID == uuid.Nil {
		return `EXISTS (SELECT 1 FROM rm_accounts a WHERE a.account_id = $1) AND ` + visibleSQL, `s.account_id = $1`, args
	}
	return `EXISTS (SELECT 1 FROM rm_account_partners ap WHERE ap.account_id = $1 AND ap.partner_id = $5::uuid) AND ` + partnerViewer5SQL,
		`s.account_id = $1 AND ` + partnerSees("$5"), append(args, partnerID)
}

// sql is the filter's condition on rows s within visible, binding its
// values after args.
func (f subFilter) sql(visible string, args []any) (string, []any) {
	conds := []string{visible}
	for _, c := range []string{f.origin, f.status} {
		if c != "" {
			conds = append(conds, c)
		}
	}
	if f.productID != "" {
		args = append(args, f.productID)
		conds = append(conds, fmt.Sprintf("s.product_id = $%d::text", len(args)))
	}
	return strings.Join(conds, " AND "), args
}

// listSubscriptions reads a page of the subscriptions a viewer may see in
// an account, with their counts and the number matching the filters, from
// one snapshot.
func listSubscriptions(ctx context.Context, pool *pgxpool.Pool, q subListRequest, now time.Time) (SubscriptionPage, error) {
	access, visible, scopeArgs := subScope(q.accountRequest, q.partnerID, now)
	// The items repeat the access condition: each query stands alone.
	where, filterArgs := q.filter.sql(access+` AND `+visible, scopeArgs)
	after, order, args := q.order.keyset(slices.Clip(filterArgs), q.after)
	args = append(args, q.limit+1)
	page := SubscriptionPage{Items: []Subscription{}}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		if q.partnerID == uuid.Nil {
			if err := mayReadOrders(ctx, tx, q.accountRequest); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `SELECT c.* FROM (SELECT `+subCountsSQL+`, count(*) FILTER (WHERE `+where+`)
		    FROM rm_subscriptions s WHERE `+visible+`) c WHERE `+access, filterArgs...).
			Scan(append(page.Counts.dest(), &page.Total)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return fmt.Errorf("count subscriptions: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+subColumns+` FROM `+subFrom+` WHERE `+where+after+`
		  ORDER BY `+order+fmt.Sprintf(" LIMIT $%d", len(args)), args...)
		if err != nil {
			return fmt.Errorf("list subscriptions: %w", err)
		}
		subs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (subRow, error) { return scanSub(row) })
		if err != nil {
			return fmt.Errorf("list subscriptions: %w", err)
		}
		if len(subs) > q.limit {
			subs = subs[:q.limit]
			page.NextCursor = new(q.order.encode(subs[q.limit-1]))
		}
		for _, s := range subs {
			page.Items = append(page.Items, s.Subscription)
		}
		return nil
	})
	if err != nil {
		return SubscriptionPage{}, fmt.Errorf("subscriptions of account %s: %w", q.accountID, err)
	}
	return page, nil
}

// subscriptionByID reads one subscription of an account the viewer may
// see; errNotFound otherwise.
func subscriptionByID(ctx context.Context, db querier, q subRequest, now time.Time) (Subscription, error) {
	if err := mayReadOrders(ctx, db, q.accountRequest); err != nil {
		return Subscription{}, err
	}
	row := db.QueryRow(ctx, `SELECT `+subColumns+` FROM `+subFrom+`
	  WHERE s.account_id = $1 AND s.subscription_id = $5::uuid AND `+visibleSQL,
		append(accountArgs(q.accountID, now, q.viewer), q.subscriptionID)...)
	s, err := scanSub(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return Subscription{}, errNotFound
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("subscription %s of account %s: %w", q.subscriptionID, q.accountID, err)
	}
	return s.Subscription, nil
}

// scanSub reads subColumns.
func scanSub(row pgx.Row) (subRow, error) {
	var r subRow
	s := &r.Subscription
	var orderingID, orderingName, channelID, channelName, reason, feedback *string
	var cancelledAt *time.Time
	err := row.Scan(&s.SubscriptionID, &s.AccountID, &s.ProductID, &s.ProductName, &s.Name,
		&orderingID, &orderingName, &channelID, &channelName, &s.Buyer.UserID, &s.Buyer.Name, &s.Buyer.Kind,
		&s.PurchasedAt, &s.ExpiresAt, &s.Price.Amount, &s.Price.Currency, &s.AssignedLicenses, &s.TotalLicenses,
		&s.Status, &cancelledAt, &reason, &feedback, &r.nameSort, &r.productSort)
	if err != nil {
		return subRow{}, err
	}
	s.Origin = "self_service"
	if s.OrderingPartner = partnerRef(orderingID, orderingName); s.OrderingPartner != nil {
		s.Origin = "partner"
	}
	s.ChannelPartner = partnerRef(channelID, channelName)
	s.PurchasedAt, s.ExpiresAt = s.PurchasedAt.UTC(), s.ExpiresAt.UTC()
	if cancelledAt != nil {
		s.Cancellation = &Cancellation{Reason: *reason, Feedback: *feedback, At: cancelledAt.UTC()}
	}
	return r, nil
}

// partnerRef is a partner named by a nullable id (a partner not projected
// yet shows an empty name).
func partnerRef(id, name *string) *PartnerRef {
	if id == nil {
		return nil
	}
	ref := &PartnerRef{PartnerID: *id}
	if name != nil {
		ref.Name = *name
	}
	return ref
}

// SubscriptionCounts are the subscriptions a viewer sees in an account, by
// status.
type SubscriptionCounts struct {
	All       int `json:"all"`
	Active    int `json:"active"`
	Cancelled int `json:"cancelled"`
	Expired   int `json:"expired"`
}

func (c *SubscriptionCounts) dest() []any { return []any{&c.All, &c.Active, &c.Cancelled, &c.Expired} }
