package service_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/eventstore"
)

// partnerMember adds a user with partner roles to a partner and returns
// their id and token.
func (h *harness) partnerMember(partnerID, admin, email string, roles ...string) (string, string) {
	h.t.Helper()
	out := h.must(http.StatusCreated, "POST", "/v1/partners/"+partnerID+"/users", admin,
		map[string]any{"email": email, "firstName": "P", "lastName": strings.Split(email, "@")[0], "roles": roles})
	return out["userId"].(string), h.token("sub-"+email, email, false)
}

// actionPack is a package with one benefit of each kind (two cloud ones).
func actionPack() map[string]any {
	return map[string]any{"name": "Action Pack 2026", "price": map[string]any{"amount": "475.00", "currency": "USD"},
		"benefits": []map[string]any{
			{"kind": "software", "name": "Windows Server 2025", "productId": "windows-server-2025", "quantity": 16},
			{"kind": "cloud", "name": "Azure credits", "cloudModel": "usage", "quantity": 1},
			{"kind": "cloud", "name": "Microsoft 365 E3", "cloudModel": "license", "quantity": 5},
			{"kind": "visual_studio", "name": "Visual Studio Enterprise", "quantity": 2},
			{"kind": "technical", "name": "Partner advisory hours", "quantity": 1},
			{"kind": "go_to_market", "name": "Silver core", "quantity": 1, "termDays": 90},
		}}
}

// pack is a bought package: its path and its benefits' paths by kind (the
// usage-based cloud benefit as "cloud", the license-based one as "cloud-license").
type pack struct {
	path     string
	benefits map[string]string
	position string
}

func (h *harness) buyPack(partnerID, token string) pack {
	h.t.Helper()
	out := h.must(http.StatusCreated, "POST", "/v1/partners/"+partnerID+"/benefit-packages", token, actionPack())
	p := pack{path: "/v1/partners/" + partnerID + "/benefit-packages/" + out["packageId"].(string), benefits: map[string]string{},
		position: out["position"].(string)}
	for i, b := range out["benefits"].([]any) {
		kind := b.(map[string]any)["kind"].(string)
		if i == 2 {
			kind = "cloud-license"
		}
		p.benefits[kind] = p.path + "/benefits/" + b.(map[string]any)["benefitId"].(string)
	}
	return p
}

// benefitOf reads the partner's benefits of a kind and returns the one named.
func (h *harness) benefitOf(partnerID, token, kind, name, after string) map[string]any {
	h.t.Helper()
	page := h.must(http.StatusOK, "GET", "/v1/partners/"+partnerID+"/benefits?kind="+kind+"&after="+after, token, nil)
	for _, it := range page["items"].([]any) {
		if b := it.(map[string]any); b["name"] == name {
			return b
		}
	}
	h.t.Fatalf("no %s benefit %q in %v", kind, name, page)
	return nil
}

func wantRule(t *testing.T, what string, code int, body map[string]any, rule string) {
	t.Helper()
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+rule {
		t.Fatalf("%s: %d %v, want 422 %s", what, code, body, rule)
	}
}

func TestBenefits_keys_company_and_users_are_assigned_by_global_admins_within_the_quantity(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Alpha", "ann@alpha.example")
	sam, seller := h.partnerMember(partnerID, admin, "sam@alpha.example", "sales_agent")
	bo, _ := h.partnerMember(partnerID, admin, "bo@alpha.example", "helpdesk_agent")
	cy, _ := h.partnerMember(partnerID, admin, "cy@alpha.example", "helpdesk_agent")

	// Buying needs no special role; using benefits needs a global admin.
	p := h.buyPack(partnerID, seller)
	key := map[string]any{"language": "ko-KR", "os": "windows-x64"}
	if code, body := h.call("POST", p.benefits["software"]+"/product-key", seller, key); code != http.StatusForbidden {
		t.Fatalf("a sales agent gets a key: %d %v", code, body)
	}
	_, customer := h.registered()
	if code, _ := h.call("POST", p.benefits["software"]+"/product-key", customer, key); code != http.StatusNotFound {
		t.Fatalf("a customer gets a partner's key: %d", code)
	}
	if code, body := h.call("POST", p.benefits["software"]+"/product-key", admin, nil); code != http.StatusBadRequest || !namesField(body, "language") || !namesField(body, "os") {
		t.Fatalf("a software key without a body: %d %v", code, body)
	}
	if code, body := h.call("POST", p.benefits["software"]+"/product-key", admin, map[string]any{"os": "windows-x64"}); code != http.StatusBadRequest || !namesField(body, "language") {
		t.Fatalf("a software key without a language: %d %v", code, body)
	}

	// Software: the key, and who got it when, for what; it is active now.
	h.clock.Set(time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC))
	got := h.must(http.StatusOK, "POST", p.benefits["software"]+"/product-key", admin, key)
	if k, _ := got["productKey"].(string); len(k) != 29 || strings.Count(k, "-") != 4 {
		t.Fatalf("key %v", got)
	}
	h.clock.Advance(time.Minute)
	again := h.must(http.StatusOK, "POST", p.benefits["software"]+"/product-key", admin, map[string]any{"language": "en-US", "os": "macos"})
	if again["productKey"] != got["productKey"] {
		t.Fatalf("one benefit, one key: %v %v", got, again)
	}
	sw := h.benefitOf(partnerID, admin, "software", "Windows Server 2025", again["position"].(string))
	retrievals := sw["keyRetrievals"].([]any)
	if first := retrievals[0].(map[string]any); sw["status"] != "active" || len(retrievals) != 2 || first["language"] != "ko-KR" ||
		first["os"] != "windows-x64" || first["retrievedAt"] != "2026-05-02T09:00:00Z" || first["name"] != "Pat Alpha" {
		t.Fatalf("software benefit %v", sw)
	}

	// Cloud: usage-based by assigning the company, license-based by a key.
	code, body := h.call("POST", p.benefits["cloud"]+"/product-key", admin, map[string]any{})
	wantRule(t, "a key of a usage-based cloud benefit", code, body, "wrong-benefit-kind")
	h.must(http.StatusOK, "PUT", p.benefits["cloud"]+"/company-assignment", admin, nil)
	// No body: a license-based key needs no field.
	pos := h.must(http.StatusOK, "POST", p.benefits["cloud-license"]+"/product-key", admin, nil)["position"].(string)
	// And the OpenAPI document says so.
	op := h.must(http.StatusOK, "GET", "/v1/openapi.json", "", nil)["paths"].(map[string]any)["/v1/partners/{partnerId}/benefit-packages/{packageId}/benefits/{benefitId}/product-key"]
	if rb := op.(map[string]any)["post"].(map[string]any)["requestBody"].(map[string]any); rb["required"] != false {
		t.Fatalf("the OpenAPI document requires the product key's body: %v", rb)
	}
	for _, name := range []string{"Azure credits", "Microsoft 365 E3"} {
		if b := h.benefitOf(partnerID, admin, "cloud", name, pos); b["status"] != "active" {
			t.Fatalf("cloud benefit %v", b)
		}
	}

	// Visual Studio: users of the partner, never more than 2; reassigned at any time.
	vs := p.benefits["visual_studio"] + "/assignees"
	h.must(http.StatusCreated, "POST", vs, admin, map[string]any{"userId": bo})
	h.must(http.StatusCreated, "POST", vs, admin, map[string]any{"userId": cy})
	code, body = h.call("POST", vs, admin, map[string]any{"userId": sam})
	wantRule(t, "a third user of two", code, body, "quantity-exhausted")
	code, body = h.call("POST", vs, admin, map[string]any{"userId": "0190a4c2-0000-7000-8000-000000000999"})
	wantRule(t, "someone not of the partner", code, body, "not-a-partner-user")
	if code, body := h.call("POST", vs, admin, map[string]any{"userId": bo}); code != http.StatusConflict {
		t.Fatalf("the same user twice: %d %v", code, body)
	}
	pos = h.must(http.StatusOK, "PUT", vs+"/"+cy, admin, map[string]any{"userId": sam})["position"].(string)
	b := h.benefitOf(partnerID, admin, "visual_studio", "Visual Studio Enterprise", pos)
	var holders []string
	for _, a := range b["assignees"].([]any) {
		holders = append(holders, a.(map[string]any)["email"].(string))
	}
	slices.Sort(holders)
	if b["remaining"] != 0.0 || b["quantity"] != 2.0 || strings.Join(holders, " ") != "bo@alpha.example sam@alpha.example" {
		t.Fatalf("visual studio %v", b)
	}
	pos = h.must(http.StatusOK, "DELETE", vs+"/"+bo, admin, nil)["position"].(string)
	if b := h.benefitOf(partnerID, admin, "visual_studio", "Visual Studio Enterprise", pos); b["remaining"] != 1.0 {
		t.Fatalf("after unassigning %v", b)
	}

	// Technical: an alternate email that is not the sign-in email.
	tech := p.benefits["technical"] + "/assignees"
	code, body = h.call("POST", tech, admin, map[string]any{"userId": bo, "alternateEmail": "BO@alpha.example"})
	wantRule(t, "the sign-in email as alternate", code, body, "alternate-email-is-sign-in-email")
	if code, body := h.call("POST", tech, admin, map[string]any{"userId": bo}); code != http.StatusBadRequest || !namesField(body, "alternateEmail") {
		t.Fatalf("no alternate email: %d %v", code, body)
	}
	pos = h.must(http.StatusCreated, "POST", tech, admin, map[string]any{"userId": bo, "alternateEmail": "bo.support@alpha-mail.example"})["position"].(string)
	b = h.benefitOf(partnerID, admin, "technical", "Partner advisory hours", pos)
	if a := b["assignees"].([]any)[0].(map[string]any); a["alternateEmail"] != "bo.support@alpha-mail.example" || a["email"] != "bo@alpha.example" || b["status"] != "active" {
		t.Fatalf("technical %v", b)
	}
	// The instructions go to both addresses.
	for _, to := range []string{"bo@alpha.example", "bo.support@alpha-mail.example"} {
		if m := h.mailTo(to); !strings.Contains(m, "bo.support@alpha-mail.example") || !strings.Contains(m, "/v1/partners/"+partnerID+"/benefits?kind=technical") {
			t.Errorf("instructions to %s: %s", to, m)
		}
	}
	if all := h.must(http.StatusOK, "GET", "/v1/partners/"+partnerID+"/benefits?status=inactive", seller, nil); len(all["items"].([]any)) != 1 {
		t.Fatalf("only go-to-market is inactive: %v", all)
	}
}

func TestBenefits_go_to_market_needs_the_marketing_contact_and_runs_until_its_term(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Alpha", "ann@alpha.example")
	_, networkAdmin := h.partnerMember(partnerID, admin, "nia@alpha.example", "partner_network_admin")
	bo, seller := h.partnerMember(partnerID, admin, "bo@alpha.example", "sales_agent")
	p := h.buyPack(partnerID, seller)
	activate := p.benefits["go_to_market"] + "/activation"
	contact := p.path + "/marketing-contact"

	code, body := h.call("POST", activate, networkAdmin, nil)
	wantRule(t, "activation without a marketing contact", code, body, "marketing-contact-required")
	if code, _ := h.call("POST", activate, seller, nil); code != http.StatusForbidden {
		t.Fatalf("a sales agent activates: %d", code)
	}
	if code, _ := h.call("POST", p.benefits["visual_studio"]+"/assignees", networkAdmin, map[string]any{"userId": bo}); code != http.StatusForbidden {
		t.Fatalf("a partner network admin assigns Visual Studio: %d", code)
	}
	code, body = h.call("PUT", contact, networkAdmin, map[string]any{"userId": bo, "alternateEmail": "bo@alpha.example", "phone": "+82 2 1234 5678", "language": "ko-KR"})
	wantRule(t, "the sign-in email as the contact's alternate", code, body, "alternate-email-is-sign-in-email")
	if code, body := h.call("PUT", contact, networkAdmin, map[string]any{"userId": bo, "alternateEmail": "bo@mail.example", "phone": "none", "language": "xx"}); code != http.StatusBadRequest ||
		!namesField(body, "phone") || !namesField(body, "language") {
		t.Fatalf("a bad phone and language: %d %v", code, body)
	}
	h.must(http.StatusOK, "PUT", contact, networkAdmin, map[string]any{"userId": bo, "alternateEmail": "bo@mail.example", "phone": "+82 2 1234 5678", "language": "ko-KR"})
	// Seed 003: the instructions go by email to the address given for the
	// marketing contact, here in the contact's language (Korean).
	if m := h.mailTo("bo@mail.example"); !strings.Contains(m, "Content-Language: ko") ||
		!strings.Contains(m, "/v1/partners/"+partnerID+"/benefits?kind=go_to_market") || !strings.Contains(m, "+82 2 1234 5678") {
		t.Fatalf("the marketing contact's instructions:\n%s", m)
	}

	h.clock.Set(time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC))
	out := h.must(http.StatusOK, "POST", activate, networkAdmin, nil)
	if out["status"] != "active" || out["expiresAt"] != "2026-08-08T12:00:00Z" {
		t.Fatalf("activated %v", out)
	}
	gtm := h.benefitOf(partnerID, seller, "go_to_market", "Silver core", out["position"].(string))
	if gtm["status"] != "active" || gtm["expiresAt"] != "2026-08-08T12:00:00Z" || gtm["activatedAt"] != "2026-05-10T12:00:00Z" {
		t.Fatalf("go-to-market %v", gtm)
	}
	pkg := h.must(http.StatusOK, "GET", p.path, seller, nil)
	if c := pkg["marketingContact"].(map[string]any); c["userId"] != bo || c["email"] != "bo@alpha.example" || c["alternateEmail"] != "bo@mail.example" || c["language"] != "ko-KR" {
		t.Fatalf("package %v", pkg)
	}
	h.clock.Set(time.Date(2026, 8, 8, 12, 0, 0, 0, time.UTC))
	if gtm := h.benefitOf(partnerID, seller, "go_to_market", "Silver core", ""); gtm["status"] != "expired" {
		t.Fatalf("on its expiry date %v", gtm)
	}
	code, body = h.call("POST", activate, admin, nil)
	wantRule(t, "activating an expired benefit", code, body, "benefit-expired")
}

func TestBenefits_refund_only_within_30_days_and_while_no_software_benefit_is_active(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Alpha", "ann@alpha.example")
	_, seller := h.partnerMember(partnerID, admin, "sam@alpha.example", "sales_agent")
	early, late, used := h.buyPack(partnerID, seller), h.buyPack(partnerID, seller), h.buyPack(partnerID, seller)
	if code, body := h.call("POST", early.path+"/cancel", admin, map[string]any{}); code != http.StatusBadRequest || !namesField(body, "refund") {
		t.Fatalf("no refund field: %d %v", code, body)
	}
	if code, _ := h.call("POST", early.path+"/cancel", seller, map[string]any{"refund": true}); code != http.StatusForbidden {
		t.Fatalf("a sales agent cancels: %d", code)
	}
	h.must(http.StatusOK, "POST", used.benefits["software"]+"/product-key", admin, map[string]any{"language": "en-US", "os": "linux-x64"})

	// Day 29: a refund for the untouched package, none for the used one.
	h.clock.Advance(29 * 24 * time.Hour)
	out := h.must(http.StatusOK, "POST", early.path+"/cancel", admin, map[string]any{"refund": true, "reason": "wrong level"})
	if out["refund"] != true || out["refundAmount"].(map[string]any)["amount"] != "475.00" {
		t.Fatalf("refunded %v", out)
	}
	code, body := h.call("POST", used.path+"/cancel", admin, map[string]any{"refund": true})
	wantRule(t, "a refund after a software key", code, body, "software-benefit-activated")
	if !strings.Contains(body["detail"].(string), "Windows Server 2025") {
		t.Fatalf("the rule names the benefit: %v", body)
	}
	code, body = h.call("POST", early.path+"/cancel", admin, map[string]any{"refund": false})
	wantRule(t, "cancelling twice", code, body, "package-cancelled")
	code, body = h.call("PUT", early.benefits["cloud"]+"/company-assignment", admin, nil)
	wantRule(t, "using a cancelled package", code, body, "package-cancelled")

	// Day 30 on: the window is closed, cancelling without a refund is not.
	h.clock.Advance(24 * time.Hour)
	code, body = h.call("POST", late.path+"/cancel", admin, map[string]any{"refund": true})
	wantRule(t, "a refund on day 30", code, body, "refund-window-closed")
	out = h.must(http.StatusOK, "POST", late.path+"/cancel", admin, map[string]any{"refund": false})
	if out["refund"] != false || out["refundAmount"] != nil {
		t.Fatalf("cancelled without refund %v", out)
	}
	page := h.must(http.StatusOK, "GET", "/v1/partners/"+partnerID+"/benefit-packages?after="+out["position"].(string), seller, nil)
	byPath := map[string]map[string]any{}
	for _, it := range page["items"].([]any) {
		pk := it.(map[string]any)
		byPath["/v1/partners/"+partnerID+"/benefit-packages/"+pk["packageId"].(string)] = pk
	}
	refunded := byPath[early.path]["cancellation"].(map[string]any)
	if byPath[early.path]["status"] != "cancelled" || refunded["refunded"] != true || refunded["reason"] != "wrong level" ||
		refunded["refundAmount"].(map[string]any)["amount"] != "475.00" {
		t.Errorf("early %v", byPath[early.path])
	}
	if c := byPath[late.path]["cancellation"].(map[string]any); c["refunded"] != false || c["refundAmount"] != nil {
		t.Errorf("late %v", byPath[late.path])
	}
	if byPath[used.path]["status"] != "active" || byPath[used.path]["refundableUntil"] != "2026-05-31T08:00:00Z" {
		t.Errorf("used %v", byPath[used.path])
	}
}

// mailTo waits, bounded, for an email to addr and returns it.
func (h *harness) mailTo(addr string) string {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(h.mailDir, "*.eml"))
		for _, f := range files {
			if b, _ := os.ReadFile(f); sentTo(string(b), addr) {
				return string(b)
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no email to %s within 10s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBenefits_concurrent_assignments_never_exceed_the_quantity(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Alpha", "ann@alpha.example")
	p := h.buyPack(partnerID, admin)
	var users []string
	for i := range 6 {
		id, _ := h.partnerMember(partnerID, admin, "dev"+strconv.Itoa(i)+"@alpha.example", "sales_agent")
		users = append(users, id)
	}
	codes := make([]int, len(users))
	bodies := make([]map[string]any, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			codes[i], bodies[i] = h.call("POST", p.benefits["visual_studio"]+"/assignees", admin, map[string]any{"userId": u})
		})
	}
	wg.Wait()
	won, last := 0, eventstore.Start
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			won++
			if at, err := eventstore.ParsePosition(bodies[i]["position"].(string)); err == nil && last.Less(at) {
				last = at
			}
		case http.StatusUnprocessableEntity, http.StatusConflict:
		default:
			t.Errorf("status %d", c)
		}
	}
	// Read once the read model has every assignment that won.
	b := h.benefitOf(partnerID, admin, "visual_studio", "Visual Studio Enterprise", last.String())
	if won != 2 || len(b["assignees"].([]any)) > 2 {
		t.Fatalf("%d assignments won (%v), assignees %v; the quantity is 2", won, codes, b["assignees"])
	}
}

// Many changes of one package at once (a script fetching product keys)
// take turns in the instance rather than retry on each other's appends:
// two dozen at once answered a third of them 409 once their four tries
// were spent.
func TestBenefits_a_package_changed_by_many_requests_at_once_answers_each(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Alpha", "ann@alpha.example")
	p := h.buyPack(partnerID, admin)
	key := map[string]any{"language": "ko-KR", "os": "windows-x64"}
	codes := make(chan int, 24)
	var wg sync.WaitGroup
	for range cap(codes) {
		wg.Go(func() {
			code, _ := h.call("POST", p.benefits["software"]+"/product-key", admin, key)
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Fatalf("a product key fetched among %d at once: %d", cap(codes), code)
		}
	}
}
