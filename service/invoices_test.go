package service_test

import (
	"net/http"
	"testing"
	"time"
)

// invoiceItems are the invoices of a list answer as "number total".
func invoiceItems(t *testing.T, page map[string]any) []string {
	t.Helper()
	var out []string
	for _, it := range page["items"].([]any) {
		inv := it.(map[string]any)
		out = append(out, inv["invoiceNumber"].(string)+" "+inv["total"].(string))
	}
	return out
}

func TestInvoices_lines_of_purchase_change_and_cancellation_prorated_for_the_rest_of_the_term(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	invoices := "/v1/accounts/" + accountID + "/invoices"

	// Bought 2026-05-01 08:00 for exactly 365 days: 100 licenses, 1234.50 USD.
	body := purchase("Team E3")
	body["expiresAt"] = "2027-05-01T08:00:00Z"
	id := h.must(http.StatusCreated, "POST", subs, admin, body)["subscriptionId"].(string)
	won := purchase("Seoul office")
	won["price"] = map[string]any{"amount": "1000000", "currency": "KRW"}
	won["totalLicenses"] = 3
	h.must(http.StatusCreated, "POST", subs, admin, won)

	// 200 days before the end: 5 more licenses cost 5 × 12.345 × 200/365.
	h.clock.Set(time.Date(2026, 10, 13, 8, 0, 0, 0, time.UTC))
	h.must(http.StatusOK, "PUT", subs+"/"+id+"/total-licenses", admin, map[string]any{"total": 105})
	// 100 days before the end the 105 licenses go: a credit of 105 × 12.345 × 100/365.
	h.clock.Set(time.Date(2027, 1, 21, 8, 0, 0, 0, time.UTC))
	pos := h.must(http.StatusOK, "POST", subs+"/"+id+"/cancel", admin, map[string]any{"reason": "other"})["position"].(string)

	// The last 3 months (2026-10-21 on) touch October and January.
	page := h.must(http.StatusOK, "GET", invoices+"?after="+pos, admin, nil)
	if got := invoiceItems(t, page); len(got) != 2 || got[0] != "INV-202701-USD -355.13" || got[1] != "INV-202610-USD 33.82" ||
		page["from"] != "2026-10-21" || page["to"] != "2027-01-21" {
		t.Fatalf("last 3 months: %v (%v to %v)", got, page["from"], page["to"])
	}
	if got := invoiceItems(t, h.must(http.StatusOK, "GET", invoices+"?period=last-6-months", admin, nil)); len(got) != 2 {
		t.Fatalf("last 6 months (from 2026-07-21): %v", got)
	}
	may := h.must(http.StatusOK, "GET", invoices+"?from=2026-05-01&to=2026-05-31", admin, nil)
	got := invoiceItems(t, may)
	if len(got) != 2 || got[0] != "INV-202605-USD 1234.50" || got[1] != "INV-202605-KRW 1000000" {
		t.Fatalf("May: %v", got)
	}
	usd := may["items"].([]any)[0].(map[string]any)
	if usd["status"] != "issued" || usd["periodStart"] != "2026-05-01" || usd["periodEnd"] != "2026-05-31" || usd["lineCount"] != 1.0 {
		t.Fatalf("May's USD invoice %v", usd)
	}
	one := h.must(http.StatusOK, "GET", invoices+"/"+usd["invoiceId"].(string), admin, nil)
	line := one["lines"].([]any)[0].(map[string]any)
	if line["kind"] != "purchase" || line["quantity"] != 100.0 || line["amount"] != "1234.50" || line["subscriptionId"] != id ||
		line["serviceFrom"] != "2026-05-01T08:00:00Z" || line["serviceTo"] != "2027-05-01T08:00:00Z" {
		t.Fatalf("purchase line %v", line)
	}
	jan := h.must(http.StatusOK, "GET", invoices+"/"+page["items"].([]any)[0].(map[string]any)["invoiceId"].(string), admin, nil)
	line = jan["lines"].([]any)[0].(map[string]any)
	if jan["status"] != "open" || line["kind"] != "cancellation" || line["quantity"] != -105.0 || line["amount"] != "-355.13" {
		t.Fatalf("January %v", jan)
	}

	for query, field := range map[string]string{
		"?period=custom&from=2026-05-01": "to", "?period=custom&to=2026-05-01": "from", "?from=2026-06-01&to=2026-05-01": "to", "?period=yesterday": "period",
		"?from=May&to=2026-05-01": "from", "?period=last-6-months&from=2026-05-01&to=2026-06-01": "period",
	} {
		if code, body := h.call("GET", invoices+query, admin, nil); code != http.StatusBadRequest || !namesField(body, field) {
			t.Errorf("%s: %d %v, want 400 naming %s", query, code, body, field)
		}
	}
	_, viewer := h.member(accountID, admin, "vic@northwind.example", "account_viewer")
	if code, _ := h.call("GET", invoices, viewer, nil); code != http.StatusForbidden {
		t.Fatalf("an account viewer reads invoices: %d", code)
	}
	if code, _ := h.call("GET", invoices+"/00000000-0000-4000-8000-000000000000", admin, nil); code != http.StatusNotFound {
		t.Fatalf("an unknown invoice: %d", code)
	}
}

// "The last 3 months" of a month's last days reach back to the same day
// three months before, or that month's last day when it has fewer days
// (May 31 -> February 28): never into the month after, which would drop
// February's invoice on May 29 to 31 and keep it on May 28.
func TestInvoices_last_months_from_the_end_of_a_month_keep_the_month_they_reach(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	invoices := "/v1/accounts/" + accountID + "/invoices"
	h.clock.Set(time.Date(2027, 2, 10, 9, 0, 0, 0, time.UTC))
	body := purchase("Team E3")
	body["expiresAt"] = "2028-02-10T09:00:00Z"
	pos := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/subscriptions", admin, body)["position"].(string)

	for _, c := range []struct {
		now          time.Time
		period, from string
	}{
		{time.Date(2027, 5, 28, 12, 0, 0, 0, time.UTC), "last-3-months", "2027-02-28"},
		{time.Date(2027, 5, 31, 12, 0, 0, 0, time.UTC), "last-3-months", "2027-02-28"},
		{time.Date(2027, 8, 31, 23, 59, 0, 0, time.UTC), "last-6-months", "2027-02-28"},
	} {
		h.clock.Set(c.now)
		page := h.must(http.StatusOK, "GET", invoices+"?period="+c.period+"&after="+pos, admin, nil)
		if got := invoiceItems(t, page); len(got) != 1 || got[0] != "INV-202702-USD 1234.50" || page["from"] != c.from {
			t.Errorf("%s on %s: %v from %v, want February's invoice from %s", c.period, c.now.Format(time.DateOnly), got, page["from"], c.from)
		}
	}
}

// A price is an amount the currency can be paid in: no fraction of a won
// or a yen, no tenth of a cent. Such a price used to be taken and then
// invoiced as another amount (1000.5 KRW as 1001, 10.005 USD as 10.01),
// and a benefit package's refund repaid it as given.
func TestInvoices_a_price_has_no_more_decimals_than_its_currency(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	priced := func(amount, currency string) map[string]any {
		body := purchase("Priced " + amount + " " + currency)
		body["price"] = map[string]any{"amount": amount, "currency": currency}
		return body
	}
	for _, p := range [][2]string{{"1000.5", "KRW"}, {"0.1", "JPY"}, {"10.005", "USD"}, {"99.9901", "EUR"}} {
		if code, body := h.call("POST", subs, admin, priced(p[0], p[1])); code != http.StatusBadRequest || !namesField(body, "price.amount") {
			t.Errorf("%s %s: %d %v, want 400 naming price.amount", p[0], p[1], code, body)
		}
	}
	// Zeros past the minor unit are the same amount.
	h.must(http.StatusCreated, "POST", subs, admin, priced("99.9900", "USD"))
	pos := h.must(http.StatusCreated, "POST", subs, admin, priced("1000.0", "KRW"))["position"].(string)
	got := invoiceItems(t, h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/invoices?after="+pos, admin, nil))
	if len(got) != 2 || got[0] != "INV-202605-USD 99.99" || got[1] != "INV-202605-KRW 1000" {
		t.Fatalf("invoices %v", got)
	}

	partnerID, partnerAdmin := h.partner("Alpha", "ann@alpha.example")
	pack := actionPack()
	pack["price"] = map[string]any{"amount": "475.005", "currency": "USD"}
	if code, body := h.call("POST", "/v1/partners/"+partnerID+"/benefit-packages", partnerAdmin, pack); code != http.StatusBadRequest || !namesField(body, "price.amount") {
		t.Errorf("a package at 475.005 USD: %d %v, want 400 naming price.amount", code, body)
	}
}

// From billing.RunningFrom on, an invoice line is what it adds to its
// subscription's running total, rounded: thirty licenses added one at a
// time three hours before the end (a third of a cent each) and taken
// away together cost, in all, what they cost, nothing. Rounded one by
// one, the additions came to nothing and their removal credited 0.12.
func TestInvoices_lines_from_2027_on_round_the_running_total_and_lose_no_cents(t *testing.T) {
	h := start(t, options{})
	h.clock.Set(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	accountID, admin := h.registered()
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	body := purchase("Small E3")
	body["expiresAt"], body["totalLicenses"] = "2028-03-01T00:00:00Z", 1
	body["price"] = map[string]any{"amount": "12.00", "currency": "USD"}
	id := h.must(http.StatusCreated, "POST", subs, admin, body)["subscriptionId"].(string)

	h.clock.Set(time.Date(2028, 2, 29, 21, 0, 0, 0, time.UTC))
	for total := 2; total <= 31; total++ {
		h.must(http.StatusOK, "PUT", subs+"/"+id+"/total-licenses", admin, map[string]any{"total": total})
	}
	pos := h.must(http.StatusOK, "PUT", subs+"/"+id+"/total-licenses", admin, map[string]any{"total": 1})["position"].(string)
	got := invoiceItems(t, h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/invoices?period=last-6-months&after="+pos, admin, nil))
	if len(got) != 1 || got[0] != "INV-202802-USD 0.00" {
		t.Fatalf("February 2028: %v, want the 31 lines to sum to 0.00", got)
	}
}
