package readapi

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// invoicesSQL groups the lines of account $1 into invoices, each with its
// status at $2 (open until its month is over). It groups in the order of
// the invoice_lines_by_period index (billing.sql), so that the sums stream
// from it with no sort of the lines, whatever rows the plan expects.
const invoicesSQL = `(SELECT l.invoice_id, l.account_id, l.currency, l.period_start, to_char(l.period_start, 'YYYY-MM-DD') AS period_key,
	    'INV-' || to_char(l.period_start, 'YYYYMM') || '-' || l.currency AS number,
	    CASE WHEN ((l.period_start + interval '1 month')::timestamp AT TIME ZONE 'UTC') <= $2::timestamptz THEN 'issued' ELSE 'open' END AS status,
	    sum(l.amount) AS total, count(*) AS lines
	  FROM rm_invoice_lines l WHERE l.account_id = $1
	  GROUP BY l.period_start, l.invoice_id, l.currency, l.account_id) i`

const invoiceColumns = `i.invoice_id::text, i.number, i.account_id::text, i.currency, i.period_key,
	to_char(i.period_start + interval '1 month' - interval '1 day', 'YYYY-MM-DD'), i.status, i.total::text, i.lines`

func scanInvoice(row pgx.Row) (Invoice, error) {
	var v Invoice
	err := row.Scan(&v.InvoiceID, &v.InvoiceNumber, &v.AccountID, &v.Currency, &v.PeriodStart, &v.PeriodEnd, &v.Status, &v.Total, &v.LineCount)
	v.periodKey = v.PeriodStart
	return v, err
}

// listInvoices reads a page of the invoices of the months the range
// touches.
func listInvoices(ctx context.Context, pool *pgxpool.Pool, q invoicesRequest, now time.Time) (InvoicePage, error) {
	from, to := q.from, q.to
	if q.period != "custom" {
		today := now.UTC().Truncate(24 * time.Hour)
		from, to = monthsBefore(today, invoicePeriods[q.period]), today
	}
	page := InvoicePage{Items: []Invoice{}, From: from.Format(time.DateOnly), To: to.Format(time.DateOnly)}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		if err := mayReadBilling(ctx, tx, q.accountRequest); err != nil {
			return err
		}
		invoices, next, err := queryPage(ctx, tx, q.order, `SELECT `+invoiceColumns+` FROM `+invoicesSQL+`
		  WHERE i.period_start >= date_trunc('month', $3::date)::date AND i.period_start <= $4::date`,
			[]any{q.accountID, now, from, to}, q.after, q.limit, scanInvoice)
		page.Items, page.NextCursor = append(page.Items, invoices...), next
		return err
	})
	if err != nil {
		return InvoicePage{}, readErr(err, "invoices of account "+q.accountID.String())
	}
	return page, nil
}

// monthsBefore is the same day n months before a date, or that month's
// last day when it is shorter (May 31 -> February 28): AddDate alone
// would roll over into the month after (March 3) and leave out the month
// the range reaches.
func monthsBefore(day time.Time, n int) time.Time {
	first := time.Date(day.Year(), day.Month()-time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(day.Day(), last)-1)
}

// invoiceByID reads one invoice and its lines.
func invoiceByID(ctx context.Context, pool *pgxpool.Pool, q invoiceRequest, now time.Time) (InvoiceDetail, error) {
	var inv InvoiceDetail
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		if err := mayReadBilling(ctx, tx, q.accountRequest); err != nil {
			return err
		}
		var err error
		inv.Invoice, err = scanInvoice(tx.QueryRow(ctx, `SELECT `+invoiceColumns+` FROM `+invoicesSQL+` WHERE i.invoice_id = $3`, q.accountID, now, q.invoiceID))
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT line_id::text, kind, subscription_id::text, subscription_name, product_name, ordering_partner_id::text,
		    quantity, amount::text, service_from, service_to, occurred_at
		  FROM rm_invoice_lines WHERE account_id = $1 AND invoice_id = $2 ORDER BY occurred_at, commit_pos, prepare_pos`, q.accountID, q.invoiceID)
		if err != nil {
			return err
		}
		inv.Lines, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (InvoiceLine, error) {
			var l InvoiceLine
			err := row.Scan(&l.LineID, &l.Kind, &l.SubscriptionID, &l.SubscriptionName, &l.ProductName, &l.OrderingPartnerID,
				&l.Quantity, &l.Amount, &l.ServiceFrom, &l.ServiceTo, &l.OccurredAt)
			l.ServiceFrom, l.ServiceTo, l.OccurredAt = l.ServiceFrom.UTC(), l.ServiceTo.UTC(), l.OccurredAt.UTC()
			return l, err
		})
		return err
	})
	if err != nil {
		return InvoiceDetail{}, readErr(err, "invoice "+q.invoiceID.String())
	}
	return inv, nil
}
