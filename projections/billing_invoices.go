package projections

import (
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
)

// applyInvoice keeps the terms of each subscription and adds the invoice
// line of each purchase, change of total and cancellation, by the rule of
// domain/billing/invoice.go (billing_line in billing.sql); false for an
// event it does not use.
func applyInvoice(q *pgx.Batch, env event.Envelope) bool {
	pos, _ := eventstore.ParsePosition(env.Position)
	line := func(kind string, at any, id any, delta *int) {
		q.Queue(insertLine, env.EventID, kind, at, id, delta, int64(pos.Commit), int64(pos.Prepare))
	}
	switch e := env.Event.(type) {
	case subscription.Purchased:
		q.Queue(`INSERT INTO rm_billing_terms (subscription_id, account_id, name, product_name, ordering_partner_id,
			    purchased_at, expires_at, price_amount, currency, base_total, total)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9, $10, $10)
			ON CONFLICT (subscription_id) DO NOTHING`,
			e.SubscriptionID, e.AccountID, e.Name, e.ProductName, e.OrderingPartnerID, e.PurchasedAt, e.ExpiresAt,
			e.Price.Amount, e.Price.Currency, e.TotalLicenses)
		line(billing.LinePurchase, e.PurchasedAt, e.SubscriptionID, &e.TotalLicenses)
	case subscription.LicenseTotalChanged:
		delta := e.Total - e.PreviousTotal
		line(billing.LineChange, env.OccurredAt, e.SubscriptionID, &delta)
		q.Queue(`UPDATE rm_billing_terms SET total = $2 WHERE subscription_id = $1`, e.SubscriptionID, e.Total)
	case subscription.Cancelled:
		line(billing.LineCancellation, e.CancelledAt, e.SubscriptionID, nil)
		q.Queue(`UPDATE rm_billing_terms SET total = 0 WHERE subscription_id = $1`, e.SubscriptionID)
	default:
		return false
	}
	return true
}

// insertLine adds the line of a change of $5 licenses (NULL: all the
// subscription holds, going) at $3 to subscription $4, from its terms t,
// and keeps the exact sum of its lines there: $1 the event id (the
// line's), $2 the kind, $6 and $7 the event's position. The invoice is
// the account's for the currency and the UTC month of $3: its id is the
// same for all of them, on every build. A line already there (a replay)
// changes nothing.
const insertLine = `
	WITH l AS (
	    SELECT t.*, q.delta, b.amount, b.after_num
	      FROM rm_billing_terms t,
	      LATERAL (SELECT coalesce($5::int, -t.total) AS delta) q,
	      LATERAL billing_line(q.delta, t.price_amount, t.base_total,
	           (extract(epoch FROM t.expires_at) - extract(epoch FROM $3::timestamptz)) * 1000000,
	           (extract(epoch FROM t.expires_at) - extract(epoch FROM t.purchased_at)) * 1000000,
	           t.currency, t.exact_num, $3::timestamptz) b
	     WHERE t.subscription_id = $4
	), added AS (
	    INSERT INTO rm_invoice_lines (line_id, invoice_id, account_id, period_start, currency, kind, subscription_id,
	        subscription_name, product_name, ordering_partner_id, quantity, amount, service_from, service_to, occurred_at, commit_pos, prepare_pos)
	    SELECT $1, md5('bizcenter.invoice/' || l.account_id::text || '/' || l.currency || '/' ||
	               to_char($3::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM'))::uuid,
	           l.account_id, date_trunc('month', $3::timestamptz AT TIME ZONE 'UTC')::date, l.currency, $2,
	           l.subscription_id, l.name, l.product_name, l.ordering_partner_id, l.delta, l.amount,
	           $3, l.expires_at, $3, $6, $7
	      FROM l
	    ON CONFLICT (line_id) DO NOTHING
	    RETURNING subscription_id
	)
	UPDATE rm_billing_terms t SET exact_num = l.after_num FROM l, added WHERE t.subscription_id = added.subscription_id`
