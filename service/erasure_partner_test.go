package service_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
)

// A partner's user, present or removed, is erased as an account's user
// is: operators only, with the verified request; their email and names
// are gone from every table, and the partner shows them as erased.
func TestErasure_forgets_a_partner_users_personal_data(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Litware Erasure", "lee.admin@litware.example")
	op := h.token("op-erase", "ops@bizcenter.example", true)
	const email, goneEmail = "quinn.partnererase@litware.example", "gone.partnererase@litware.example"
	userID, _ := h.partnerMember(partnerID, admin, email, "sales_agent")
	gone, _ := h.partnerMember(partnerID, admin, goneEmail, "sales_agent")
	users := "/v1/partners/" + partnerID + "/users/"
	h.must(http.StatusOK, "DELETE", users+gone, admin, nil)
	if where := scan(t, h.svc.Pool(), email); len(where) == 0 {
		t.Fatal("the read models should show the email before the erasure")
	}

	body := map[string]any{"reason": "verified request #5150"}
	if code, _ := h.call("POST", users+userID+"/erasure", admin, body); code != http.StatusForbidden {
		t.Fatalf("a partner's admin erasing: %d", code)
	}
	if code, out := h.call("POST", users+userID+"/erasure", op, map[string]any{"reason": ""}); code != http.StatusBadRequest {
		t.Fatalf("no reason: %d %v", code, out)
	}
	if code, out := h.call("POST", users+uuid.NewString()+"/erasure", op, body); code != http.StatusNotFound {
		t.Fatalf("no such user of the partner: %d %v", code, out)
	}
	erased := h.must(http.StatusOK, "POST", users+userID+"/erasure", op, body)
	if again := h.must(http.StatusOK, "POST", users+userID+"/erasure", op, body); again["position"] != erased["position"] {
		t.Fatalf("erasing twice appended again: %v then %v", erased, again)
	}
	h.must(http.StatusOK, "POST", users+gone+"/erasure", op, body)

	p := h.must(http.StatusOK, "GET", "/v1/partners/"+partnerID+"?after="+erased["position"].(string), admin, nil)
	for _, u := range p["users"].([]any) {
		u := u.(map[string]any)
		if u["userId"] == userID && (u["email"] != "[erased]" || u["firstName"] != "[erased]" || u["lastName"] != "[erased]") {
			t.Fatalf("the partner shows the erased user as %v", u)
		}
	}
	waitFor(t, "every read model, the mailer and the audit model to forget them", 10*time.Second, func() bool {
		return len(scan(t, h.svc.Pool(), email)) == 0 && len(scan(t, h.svc.Pool(), goneEmail)) == 0
	})
}

// A partner user's erasure that stopped before its event is finished by
// the sweeper in the partner's stream, once.
func TestSweeper_finishes_a_partner_users_erasure(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Litware Sweep", "lee.sweep@litware.example")
	userID, _ := h.partnerMember(partnerID, admin, "half.partnererase@litware.example", "sales_agent")
	id := uuid.MustParse(userID)
	stream := partner.Stream(uuid.MustParse(partnerID))
	ctx := context.Background()
	if _, err := (personal.Keys{DB: h.svc.Pool()}).Erase(ctx, id, stream, "op-half", "verified request #78"); err != nil {
		t.Fatal(err)
	}
	h.svc.Sweeper.ErasureGrace = time.Nanosecond
	for i, want := range []int{1, 0} {
		if n, err := h.svc.Sweeper.Sweep(ctx); err != nil || n != want {
			t.Fatalf("sweep %d: appended %d (%v), want %d", i+1, n, err, want)
		}
	}
	recs, err := h.svc.Store().ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if last.Type != (partner.UserPersonalDataErased{}).EventType() || !strings.Contains(string(last.Data), `"erasedBy":"op-half"`) {
		t.Fatalf("the partner's stream ends with %s %s", last.Type, last.Data)
	}
}

// While a partner user's erasure is half done (the key gone, the event to
// come), a grant to their partner is announced to the others only: the
// mailer's copy of their address stays until the event.
func TestErasure_half_done_partner_user_is_not_mailed_a_grant(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	a, aAdmin := h.partner("Alpha Erasure", "ann.erasure@alpha.example")
	b, _ := h.partner("Beta Erasure", "ben.erasure@beta.example")
	const email = "half.mailed@alpha.example"
	id, _ := h.partnerMember(a, aAdmin, email, "admin_agent")
	h.serve(accountID, a)
	h.serve(accountID, b)
	waitFor(t, "the mailer to know the partner's users", 10*time.Second, func() bool {
		var n int
		_ = h.svc.Pool().QueryRow(context.Background(), `SELECT count(*) FROM mail_partner_users WHERE user_id = $1`, id).Scan(&n)
		return n == 1
	})
	if _, err := (personal.Keys{DB: h.svc.Pool()}).Erase(context.Background(), uuid.MustParse(id),
		partner.Stream(uuid.MustParse(a)), "op-half", "verified request #9"); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/partner-visibility/grants", admin,
		map[string]any{"granteePartnerId": a, "sourcePartnerId": b})
	h.mailTo("ann.erasure@alpha.example")
	var outcome string
	if err := h.svc.Pool().QueryRow(context.Background(),
		`SELECT outcome FROM mail_sent WHERE outcome LIKE 'one email a recipient%'`).Scan(&outcome); err != nil || outcome != "one email a recipient: 1" {
		t.Fatalf("the grant's emails: %q (%v), want one, to the partner's admin only", outcome, err)
	}
}

// Nothing is assigned to a partner user whose personal data was erased:
// a rule answer, not a failure to seal for them.
func TestErasure_erased_partner_user_gets_no_benefit(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Litware Assign", "lee.assign@litware.example")
	op := h.token("op-erase", "ops@bizcenter.example", true)
	bo, _ := h.partnerMember(partnerID, admin, "bo.assign@litware.example", "sales_agent")
	p := h.buyPack(partnerID, admin)
	h.must(http.StatusOK, "POST", "/v1/partners/"+partnerID+"/users/"+bo+"/erasure", op, map[string]any{"reason": "verified request #2"})
	code, body := h.call("POST", p.benefits["visual_studio"]+"/assignees", admin, map[string]any{"userId": bo})
	if code != http.StatusUnprocessableEntity || body["type"] != "https://bizcenter.dev/problems/user-erased" {
		t.Fatalf("assigning Visual Studio to an erased partner user: %d %v", code, body)
	}
}
