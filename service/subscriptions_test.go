package service_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSubscription_purchase_total_cancel_and_expiry(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	subs := "/v1/accounts/" + accountID + "/subscriptions"

	bad := purchase("broken")
	bad["price"] = map[string]any{"amount": "12.345678", "currency": "XXX"}
	bad["totalLicenses"] = 0
	bad["expiresAt"] = "2020-01-01T00:00:00Z"
	code, body := h.call("POST", subs, admin, bad)
	for _, f := range []string{"price.amount", "price.currency", "totalLicenses", "expiresAt"} {
		if code != http.StatusBadRequest || !namesField(body, f) {
			t.Errorf("bad purchase should name %s: %d %v", f, code, body)
		}
	}
	float := purchase("float")
	float["price"] = map[string]any{"amount": 12.5, "currency": "USD"}
	if code, body := h.call("POST", subs, admin, float); code != http.StatusBadRequest || !namesField(body, "price.amount") {
		t.Errorf("a float price: %d %v", code, body)
	}
	_, viewer := h.member(accountID, admin, "vic@northwind.example", "account_viewer")
	if code, body := h.call("POST", subs, viewer, purchase("viewer's")); code != http.StatusForbidden {
		t.Errorf("an account viewer buys: %d %v", code, body)
	}
	_, manager := h.member(accountID, admin, "max@northwind.example", "account_manager")
	id, pos := h.order(accountID, manager, "", "Team E3")
	one := h.must(http.StatusOK, "GET", subs+"/"+id+"?after="+pos, admin, nil)
	price := one["price"].(map[string]any)
	if price["amount"] != "1234.50" || price["currency"] != "USD" || one["origin"] != "self_service" ||
		one["status"] != "active" || one["totalLicenses"] != 100.0 || one["buyer"].(map[string]any)["kind"] != "customer" {
		t.Fatalf("subscription %v", one)
	}

	total := subs + "/" + id + "/total-licenses"
	out := h.must(http.StatusOK, "PUT", total, admin, map[string]any{"total": 105})
	if got := h.must(http.StatusOK, "GET", subs+"/"+id+"?after="+out["position"].(string), admin, nil)["totalLicenses"]; got != 105.0 {
		t.Fatalf("total %v after setting 105", got)
	}
	if code, body := h.call("PUT", total, admin, map[string]any{"total": -1}); code != http.StatusBadRequest || !namesField(body, "total") {
		t.Fatalf("negative total: %d %v", code, body)
	}

	cancel := subs + "/" + id + "/cancel"
	if code, body := h.call("POST", cancel, admin, map[string]any{"reason": "bored"}); code != http.StatusBadRequest || !namesField(body, "reason") {
		t.Fatalf("unknown reason: %d %v", code, body)
	}
	out = h.must(http.StatusOK, "POST", cancel, admin, map[string]any{"reason": "too_expensive", "feedback": "half the price, please"})
	one = h.must(http.StatusOK, "GET", subs+"/"+id+"?after="+out["position"].(string), admin, nil)
	if one["status"] != "cancelled" || one["cancellation"].(map[string]any)["reason"] != "too_expensive" {
		t.Fatalf("cancelled %v", one)
	}
	if code, body := h.call("POST", cancel, admin, map[string]any{"reason": "other"}); code != http.StatusUnprocessableEntity || problemType(body) != problems+"subscription-cancelled" {
		t.Fatalf("cancel twice: %d %v", code, body)
	}

	// Expiry: on its date the subscription counts as expired at once, the
	// sweeper records it once, and it can no longer change.
	other, pos := h.order(accountID, admin, "", "Yearly")
	h.must(http.StatusOK, "GET", subs+"/"+other+"?after="+pos, admin, nil)
	h.clock.Set(time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC))
	if got := h.must(http.StatusOK, "GET", subs+"/"+other, admin, nil)["status"]; got != "expired" {
		t.Fatalf("status on the expiry date: %v", got)
	}
	n, err := h.svc.Sweeper.Sweep(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("sweep recorded %d: %v", n, err)
	}
	if code, body := h.call("PUT", subs+"/"+other+"/total-licenses", admin, map[string]any{"total": 5}); code != http.StatusUnprocessableEntity || problemType(body) != problems+"subscription-expired" {
		t.Fatalf("changing an expired subscription: %d %v", code, body)
	}
	op := h.token("op-1", "ops@bizcenter.example", true)
	history := h.must(http.StatusOK, "GET", "/v1/audit/streams/subscription-"+other, op, nil)["events"].([]any)
	if last := history[len(history)-1].(map[string]any); last["type"] != "subscription.expired" {
		t.Fatalf("last event %v", last)
	}
	crafted := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"name","k":["a\u0000","` + other + `"]}`))
	if code, body := h.call("GET", subs+"?cursor="+crafted, admin, nil); code != http.StatusBadRequest || !namesField(body, "cursor") {
		t.Fatalf("a cursor holding NUL: %d %v", code, body)
	}
	expired := h.must(http.StatusOK, "GET", subs+"?status=expired", admin, nil)
	if got := names(t, expired); len(got) != 1 || got[0] != "Yearly" {
		t.Fatalf("status filter: %v", got)
	}
}

// An order naming a partner the caller may not order for is a 404 (the
// partner's users alone learn it is theirs), but an account's own member
// or an operator, who read the account and the partners serving it, is
// told what is wrong with the partner named, not that their account does
// not exist. Someone outside the account still learns nothing of it.
func TestSubscription_an_order_naming_a_partner_it_may_not_order_for_says_so_to_who_sees_the_account(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	serving, _ := h.partner("Fabrikam", "pat@fabrikam.example")
	h.serve(accountID, serving)
	elsewhere, _ := h.partner("Tailspin", "tia@tailspin.example")
	op := h.token("op-1", "ops@bizcenter.example", true)
	outsider := h.token("sub-x", "x@elsewhere.example", false)

	for _, c := range []struct {
		who, token, partnerID, want string
	}{
		{"the account's administrator, for a partner serving it", admin, serving, "you are not one of its users"},
		{"the account's administrator, for a partner not serving it", admin, elsewhere, "does not serve the account"},
		{"an operator, for a partner not serving it", op, elsewhere, "does not serve the account"},
	} {
		body := purchase("Team")
		body["orderingPartnerId"] = c.partnerID
		code, out := h.call("POST", subs, c.token, body)
		detail, _ := out["detail"].(string)
		if code != http.StatusNotFound || strings.Contains(detail, "account "+accountID) || !strings.Contains(detail, c.partnerID) ||
			!strings.Contains(detail, c.want) {
			t.Errorf("%s: %d %v, want 404 saying the partner %s", c.who, code, out, c.want)
		}
	}
	body := purchase("Team")
	body["orderingPartnerId"] = serving
	if code, out := h.call("POST", subs, outsider, body); code != http.StatusNotFound || strings.Contains(stringOf(out), serving) {
		t.Errorf("an outsider: %d %v, want the account's 404 naming no partner", code, out)
	}
}
