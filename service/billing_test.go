package service_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/domain/event"
)

// profile creates a billing profile of the account as token.
func (h *harness) profile(accountID, token, name string) string {
	h.t.Helper()
	out := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/billing-profiles", token, map[string]any{"name": name})
	return out["billingProfileId"].(string)
}

func card(number, code string, month, year int) map[string]any {
	return map[string]any{"number": number, "securityCode": code, "expiryMonth": month, "expiryYear": year, "nameOnCard": "Nora Wind",
		"address": map[string]any{"line1": "1 Main St", "city": "Seattle", "region": "WA", "postalCode": "98101", "country": "US"}}
}

// methodsOf are the payment methods of a billing profile as read.
func methodsOf(t *testing.T, profile map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range profile["paymentMethods"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func TestBilling_cards_go_to_the_provider_and_no_number_or_security_code_is_stored(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	profiles := "/v1/accounts/" + accountID + "/billing-profiles"
	profileID := h.profile(accountID, admin, "Northwind HQ")
	methods := profiles + "/" + profileID + "/payment-methods"

	// Refusals name the field (400) or the rule (422), never the number.
	code, body := h.call("POST", methods, admin, card("4242 4242 4242 4241", "123", 12, 2028))
	if code != http.StatusBadRequest || !namesField(body, "number") || strings.Contains(stringOf(body), "4241") {
		t.Fatalf("a number failing the Luhn check: %d %v", code, body)
	}
	if code, body := h.call("POST", methods, admin, card("378282246310005", "123", 12, 2028)); code != http.StatusBadRequest || !namesField(body, "securityCode") {
		t.Fatalf("a three-digit code on American Express: %d %v", code, body)
	}
	// The harness clock says 2026-05-01: a card of 04/2026 has expired.
	if code, body := h.call("POST", methods, admin, card("4242424242424242", "123", 4, 2026)); code != http.StatusUnprocessableEntity || problemType(body) != problems+"card-expired" {
		t.Fatalf("an expired card: %d %v", code, body)
	}
	if code, body := h.call("POST", methods, admin, card("4000000000000002", "123", 12, 2028)); code != http.StatusUnprocessableEntity || problemType(body) != problems+"card-declined" {
		t.Fatalf("the declined test card: %d %v", code, body)
	}

	// With an Idempotency-Key a repeat answers the same and adds nothing.
	once := map[string]string{"Idempotency-Key": "card-once"}
	code, added := h.callWith("POST", methods, admin, once, card("4242 4242 4242 4242", "737", 5, 2026))
	first, _ := added["paymentMethodId"].(string)
	if code != http.StatusCreated || first == "" {
		t.Fatalf("add: %d %v", code, added)
	}
	if code, again := h.callWith("POST", methods, admin, once, card("4242 4242 4242 4242", "737", 5, 2026)); code != http.StatusCreated || again["paymentMethodId"] != first {
		t.Fatalf("a repeated add: %d %v", code, again)
	}
	if c := added["card"].(map[string]any); c["brand"] != "visa" || c["last4"] != "4242" || c["masked"] != "•••• 4242" || c["expiryYear"] != 2026.0 {
		t.Fatalf("added %v", added)
	}
	read := h.must(http.StatusOK, "GET", profiles+"/"+profileID+"?after="+added["position"].(string), admin, nil)
	if ms := methodsOf(t, read); len(ms) != 1 || ms[0]["last4"] != "4242" || ms[0]["expired"] != false || ms[0]["token"] != nil {
		t.Fatalf("profile %v", read)
	}
	// The card pays until the end of May; from June it reads as expired.
	h.clock.Set(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if ms := methodsOf(t, h.must(http.StatusOK, "GET", profiles+"/"+profileID, admin, nil)); ms[0]["expired"] != true {
		t.Fatalf("a card past its month: %v", ms)
	}
	h.clock.Set(time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC))

	// Edit: a new security code and expiry, the same card.
	edit := methods + "/" + first
	if code, body := h.call("PATCH", edit, admin, map[string]any{}); code != http.StatusBadRequest {
		t.Fatalf("an edit of nothing: %d %v", code, body)
	}
	if code, body := h.call("PATCH", edit, admin, map[string]any{"expiryMonth": 1, "expiryYear": 2026}); code != http.StatusUnprocessableEntity || problemType(body) != problems+"card-expired" {
		t.Fatalf("an expiry in the past: %d %v", code, body)
	}
	edited := h.must(http.StatusOK, "PATCH", edit, admin, map[string]any{"securityCode": "515", "expiryMonth": 9, "expiryYear": 2029,
		"nameOnCard": "N. Wind", "address": map[string]any{"line1": "2 Pine St", "city": "Seattle", "postalCode": "98101", "country": "US"}})
	if c := edited["card"].(map[string]any); edited["paymentMethodId"] != first || c["expiryMonth"] != 9.0 || c["expiryYear"] != 2029.0 {
		t.Fatalf("edited %v", edited)
	}

	// Replace: another card in its place; then add one more and remove it.
	replaced := h.must(http.StatusCreated, "POST", edit+"/replace", admin, card("5555-5555-5555-4444", "848", 11, 2030))
	second := replaced["paymentMethodId"].(string)
	third := h.must(http.StatusCreated, "POST", methods, admin, card("378282246310005", "7373", 1, 2031))["paymentMethodId"].(string)
	removed := h.must(http.StatusOK, "DELETE", methods+"/"+third, admin, nil)
	if code, body := h.call("DELETE", methods+"/"+third, admin, nil); code != http.StatusNotFound {
		t.Fatalf("removing twice: %d %v", code, body)
	}
	list := h.must(http.StatusOK, "GET", profiles+"?after="+removed["position"].(string), admin, nil)["items"].([]any)
	ms := methodsOf(t, list[0].(map[string]any))
	if len(list) != 1 || len(ms) != 1 || ms[0]["paymentMethodId"] != second || ms[0]["brand"] != "mastercard" || ms[0]["masked"] != "•••• 4444" {
		t.Fatalf("profiles %v", list)
	}

	// Nothing anywhere holds a full number or a security code: no event,
	// no read model, no idempotency record, in any schema.
	for _, needle := range []string{"4242424242424242", "4242 4242 4242 4242", "5555555555554444", "5555-5555-5555-4444", "378282246310005",
		`"737"`, `"515"`, `"848"`, `"7373"`, `securityCode":`} {
		if found := scan(t, h.svc.Pool(), needle); len(found) > 0 {
			t.Errorf("%s is stored in %v", needle, found)
		}
	}
	// The fingerprint kept with the key is keyed: hashing a guessed body
	// (every number of a card range, say) does not find it.
	var kept []byte
	if err := h.svc.Pool().QueryRow(context.Background(), `SELECT request_hash FROM idempotency_keys WHERE key = 'card-once'`).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	guessed, _ := json.Marshal(card("4242 4242 4242 4242", "737", 5, 2026))
	plain := sha256.Sum256([]byte("POST " + methods + "\n" + string(guessed)))
	unkeyed := hmac.New(sha256.New, nil)
	unkeyed.Write([]byte("POST " + methods + "\n" + string(guessed)))
	if len(kept) != sha256.Size || bytes.Equal(kept, plain[:]) || bytes.Equal(kept, unkeyed.Sum(nil)) {
		t.Fatalf("the kept fingerprint %x is the body's hash without a secret", kept)
	}

	op := h.token("op-1", "ops@bizcenter.example", true)
	history := h.must(http.StatusOK, "GET", "/v1/audit/streams/billing-profile-"+profileID, op, nil)["events"].([]any)
	var types []string
	for _, e := range history {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if want := []string{"billing.profile_created", "billing.payment_method_added", "billing.payment_method_updated",
		"billing.payment_method_replaced", "billing.payment_method_added", "billing.payment_method_removed"}; !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
	updated := history[2].(map[string]any)["data"].(map[string]any)
	if changed := stringOf(updated["changed"]); changed != "securityCode expiry nameOnCard address " {
		t.Fatalf("the edit names %q", changed)
	}
}

func TestBilling_profiles_are_for_account_administrators_and_account_managers(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	_, viewer := h.member(accountID, admin, "vic@northwind.example", "reports_viewer")
	_, manager := h.member(accountID, admin, "max@northwind.example", "account_manager")
	profiles := "/v1/accounts/" + accountID + "/billing-profiles"
	if code, body := h.call("POST", profiles, viewer, map[string]any{"name": "Mine"}); code != http.StatusForbidden {
		t.Fatalf("a reports viewer creates a profile: %d %v", code, body)
	}
	if code, body := h.call("POST", profiles, manager, map[string]any{"name": " "}); code != http.StatusBadRequest || !namesField(body, "name") {
		t.Fatalf("a blank name: %d %v", code, body)
	}
	id := h.profile(accountID, manager, "Team")
	if code, body := h.call("GET", profiles+"/"+id, viewer, nil); code != http.StatusForbidden {
		t.Fatalf("a reports viewer reads a profile: %d %v", code, body)
	}
	other := h.token("sub-x", "x@elsewhere.example", false)
	if code, _ := h.call("GET", profiles, other, nil); code != http.StatusNotFound {
		t.Fatalf("an outsider reads the profiles: %d", code)
	}
	if code, _ := h.call("POST", profiles+"/"+id+"/payment-methods", other, card("4242424242424242", "123", 12, 2030)); code != http.StatusNotFound {
		t.Fatalf("an outsider adds a card: %d", code)
	}
	if code, _ := h.call("GET", profiles+"/00000000-0000-4000-8000-000000000000", admin, nil); code != http.StatusNotFound {
		t.Fatalf("an unknown profile: %d", code)
	}
}

// docs/events.md is the contract: every billing and benefit event has its
// section.
func TestDocs_events_md_describes_every_billing_and_benefit_event(t *testing.T) {
	doc, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, typ := range event.Types() {
		if !strings.HasPrefix(typ, "billing.") && !strings.HasPrefix(typ, "benefit.") {
			continue
		}
		n++
		if !strings.Contains(string(doc), "\n## "+typ+" (v1)") {
			t.Errorf("docs/events.md has no section ## %s (v1)", typ)
		}
	}
	if n != 14 {
		t.Errorf("%d billing and benefit event types registered, want 14", n)
	}
}
