package readapi

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// Invoice is the invoice of an account for one currency and one calendar
// month (UTC): the lines of the purchases, changes of total and
// cancellations of its subscriptions in that month. Status is open until
// the month is over, then issued. Amounts are exact decimals, never
// floats, rounded to the currency's minor unit (docs/events.md,
// "Invoices").
type Invoice struct {
	InvoiceID     string `json:"invoiceId"`
	InvoiceNumber string `json:"invoiceNumber"`
	AccountID     string `json:"accountId"`
	Currency      string `json:"currency"`
	// PeriodStart and PeriodEnd are dates (YYYY-MM-DD); the end is the
	// month's last day.
	PeriodStart string `json:"periodStart"`
	PeriodEnd   string `json:"periodEnd"`
	Status      string `json:"status"`
	Total       string `json:"total"`
	LineCount   int    `json:"lineCount"`
	periodKey   string
}

// InvoiceLine is one line of an invoice. Quantity is the change of
// licenses (negative for a reduction or a cancellation), Amount what it
// costs for the service period (negative: a credit).
type InvoiceLine struct {
	LineID            string    `json:"lineId"`
	Kind              string    `json:"kind"`
	SubscriptionID    string    `json:"subscriptionId"`
	SubscriptionName  string    `json:"subscriptionName"`
	ProductName       string    `json:"productName"`
	OrderingPartnerID *string   `json:"orderingPartnerId"`
	Quantity          int       `json:"quantity"`
	Amount            string    `json:"amount"`
	ServiceFrom       time.Time `json:"serviceFrom"`
	ServiceTo         time.Time `json:"serviceTo"`
	OccurredAt        time.Time `json:"occurredAt"`
}

// InvoiceDetail is one invoice with its lines, in the order they occurred.
type InvoiceDetail struct {
	Invoice
	Lines []InvoiceLine `json:"lines"`
}

// InvoicePage is GET /v1/accounts/{accountId}/invoices: the invoices of
// the months from From to To (dates), newest first.
type InvoicePage struct {
	Items      []Invoice `json:"items"`
	NextCursor *string   `json:"nextCursor"`
	From       string    `json:"from"`
	To         string    `json:"to"`
}

// invoicePeriods are the ranges ?period names, in months back from today.
var invoicePeriods = map[string]int{"last-3-months": 3, "last-6-months": 6, "custom": 0}

// maxInvoiceSpan bounds a custom range.
const maxInvoiceSpan = 10 * 366 * 24 * time.Hour

type invoicesRequest struct {
	accountRequest
	period   string
	from, to time.Time // dates, to included; zero for a period back from now
	order    keyOrder[Invoice]
	after    []any
	limit    int
}

var invoiceOrder = keyOrder[Invoice]{name: "-period", desc: true, cols: []keyOf[Invoice]{
	{"i.period_key", "text", func(r Invoice) string { return r.periodKey }},
	{"i.currency", "text", func(r Invoice) string { return r.Currency }},
	{"i.invoice_id", "uuid", func(r Invoice) string { return r.InvoiceID }},
}}

func parseInvoices(in *input, p kit.Principal) invoicesRequest {
	q := invoicesRequest{accountRequest: parseAccount(in, p), limit: in.intIn("limit", defaultLimit, 1, maxLimit)}
	q.order, q.after = pageBy(in, invoiceOrder)
	// A date given is told by ok, not by IsZero: 0001-01-01 is the zero
	// time's date.
	from, hasFrom := in.date("from")
	to, hasTo := in.date("to")
	def := "last-3-months"
	if hasFrom || hasTo {
		def = "custom"
	}
	q.period, _ = oneOf(in, "period", def, invoicePeriods)
	switch {
	case q.period != "custom" && (hasFrom || hasTo):
		in.fail("period", "from and to make a custom range: leave period out or set it to custom")
	case q.period == "custom" && (!hasFrom || !hasTo):
		// Each one missing is named (one given but not a date was
		// named already, and fail names a field once).
		if !hasFrom {
			in.fail("from", "a custom range needs from and to (YYYY-MM-DD)")
		}
		if !hasTo {
			in.fail("to", "a custom range needs from and to (YYYY-MM-DD)")
		}
	case to.Before(from):
		in.fail("to", "on or after from")
	case to.Sub(from) > maxInvoiceSpan:
		in.fail("to", "at most ten years after from")
	}
	q.from, q.to = from, to
	return q
}

// date reads an optional YYYY-MM-DD query parameter, reporting whether
// it holds one.
func (in *input) date(name string) (time.Time, bool) {
	s := in.values.Get(name)
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		in.fail(name, "a date as YYYY-MM-DD")
	}
	return t, err == nil
}

type invoiceRequest struct {
	accountRequest
	invoiceID uuid.UUID
}

func (d Deps) invoiceRoutes() []kit.Route {
	return []kit.Route{billingGet(kit.Route{
		Path: "/v1/accounts/{accountId}/invoices",
		Summary: "The account's invoices of the last 3 months (default), the last 6 months, or a custom range of dates, newest first " +
			"(Account Administrators, Account Managers)",
		Response: InvoicePage{Items: []Invoice{exampleInvoice.Invoice}, From: "2026-02-15", To: "2026-05-15"},
		Query: map[string]string{
			"period": "last-3-months (default), last-6-months or custom (with from and to)",
			"from":   "first day of a custom range, YYYY-MM-DD: invoices of the months it touches",
			"to":     "last day of a custom range, YYYY-MM-DD (included)",
			"limit":  "page size, 1 to 500 (default 50)", "cursor": cursorQuery,
		},
		Handler: endpoint(d, reads{usersProjector, billingProjector}, parseInvoices, func(ctx context.Context, q invoicesRequest) (InvoicePage, error) {
			return listInvoices(ctx, d.Pool, q, d.Clock.Now())
		}),
	}), billingGet(kit.Route{
		Path:     "/v1/accounts/{accountId}/invoices/{invoiceId}",
		Summary:  "One invoice with its lines",
		Response: exampleInvoice,
		Handler: endpoint(d, reads{usersProjector, billingProjector}, func(in *input, p kit.Principal) invoiceRequest {
			return invoiceRequest{accountRequest: parseAccount(in, p), invoiceID: in.pathUUID("invoiceId")}
		}, func(ctx context.Context, q invoiceRequest) (InvoiceDetail, error) {
			return invoiceByID(ctx, d.Pool, q, d.Clock.Now())
		}),
	})}
}

var exampleInvoice = InvoiceDetail{Invoice: Invoice{InvoiceID: "5b0e7c3f-2f1a-4d53-9e7a-1c2b3d4e5f60", InvoiceNumber: "INV-202605-USD",
	AccountID: exampleAccount.AccountID, Currency: "USD", PeriodStart: "2026-05-01", PeriodEnd: "2026-05-31", Status: "open",
	Total: "1268.32", LineCount: 2}, Lines: []InvoiceLine{{
	LineID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7fc1", Kind: "purchase", SubscriptionID: exampleSubscription.SubscriptionID,
	SubscriptionName: "Office for the sales team", ProductName: "Office 365 E3", Quantity: 100, Amount: "1234.50",
	ServiceFrom: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC), ServiceTo: time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC),
	OccurredAt: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}}}
