package service_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/bizcenter/bizcenter/httpapi/auth/authtest"
)

func TestSignIn_with_the_identity_provider_activates_a_pending_invitation(t *testing.T) {
	issuer := authtest.NewIssuer(t, "bizcenter-api")
	h := start(t, options{oidcIssuer: issuer.URL(), oidcAudience: "bizcenter-api"})
	accountID, admin := h.registered()
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("sso@northwind.example", "reports_viewer"))
	// Sign-in finds pending invitations in the read model: let it have this one.
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+inv["position"].(string), admin, nil)

	// An unverified email activates nothing and sees no account.
	unverified := issuer.Mint("sso-user", "sso@northwind.example", authtest.EmailUnverified())
	me := h.must(http.StatusOK, "GET", "/v1/me", unverified, nil)
	if n := len(me["accounts"].([]any)); n != 0 {
		t.Fatalf("an unverified email sees %d accounts", n)
	}

	token := issuer.Mint("sso-user", "SSO@northwind.example")
	me = h.must(http.StatusOK, "GET", "/v1/me", token, nil)
	accounts := me["accounts"].([]any)
	if len(accounts) != 1 || accounts[0].(map[string]any)["accountId"] != accountID {
		t.Fatalf("after the first sign-in: %v", me)
	}
	list := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?email=sso", token, nil)
	if got := statusOf(t, list, "sso@northwind.example"); got != "active" {
		t.Fatalf("status after sign-in %s", got)
	}
	// An expired token of the provider is refused.
	if code, _ := h.call("GET", "/v1/accounts/"+accountID, issuer.Mint("x", "x@elsewhere.example", authtest.Expired()), nil); code != http.StatusUnauthorized {
		t.Fatalf("an expired provider token: %d", code)
	}
}

// A sign-in that activates an invitation makes the read wait for it, but
// never in place of a position the client asked for with the header: a
// later one still counts, and one that is not a position is refused.
func TestSignIn_keeps_the_clients_own_wait(t *testing.T) {
	issuer := authtest.NewIssuer(t, "bizcenter-api")
	h := start(t, options{oidcIssuer: issuer.URL(), oidcAudience: "bizcenter-api"})
	accountID, admin := h.registered()
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("sso@northwind.example", "reports_viewer"))
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+inv["position"].(string), admin, nil)

	req, _ := http.NewRequest("GET", h.url+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+issuer.Mint("sso-user", "sso@northwind.example"))
	req.Header.Set("X-After-Position", "not-a-position")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var problem struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&problem); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest || len(problem.Errors) != 1 || problem.Errors[0].Field != "X-After-Position" {
		t.Fatalf("a sign-in with a malformed X-After-Position: %d %+v, want 400 naming it", resp.StatusCode, problem)
	}
}
