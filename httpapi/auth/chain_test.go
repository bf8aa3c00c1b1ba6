package auth_test

import (
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/httpapi/auth/authtest"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

var devSecret = []byte("a dev secret of 32 bytes or so..")

func devToken(t *testing.T, subject string, operator bool) string {
	t.Helper()
	token, err := auth.Mint(devSecret, subject, "ops@example.com", operator, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func TestChain_Verify_routes_by_alg_and_issuer(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	chain := auth.NewChain(auth.NewVerifier(devSecret, nil), newOIDC(t, iss))

	dev := mustVerify(t, chain, devToken(t, "ops-1", true))
	dev.Expires = expiresInAnHour(t, dev.Expires)
	if want := (kit.Principal{Subject: "ops-1", Email: "ops@example.com", Operator: true}); dev != want {
		t.Fatalf("dev token: got %+v, want %+v", dev, want)
	}
	oidc := mustVerify(t, chain, iss.Mint("user-1", "ann@example.com"))
	oidc.Expires = expiresInAnHour(t, oidc.Expires)
	if want := (kit.Principal{Subject: auth.OIDCSubject(iss.URL(), "user-1"), Email: "ann@example.com"}); oidc != want {
		t.Fatalf("oidc token: got %+v, want %+v", oidc, want)
	}
}

func TestChain_Verify_refuses_bad_tokens(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	chain := auth.NewChain(auth.NewVerifier(devSecret, nil), newOIDC(t, iss))
	tokens := refusedTokens(t, iss)
	tokens["not a JWT"] = "not.a.jwt"
	tokens["dev token, other secret"] = func() string {
		token, _ := auth.Mint([]byte("another secret, 32 bytes or so.."), "ops-1", "", true, time.Hour, time.Now())
		return token
	}()
	// Signed, but with a subject or an email PostgreSQL cannot take as text
	// (JSON carries NUL; bytes that are not UTF-8 it cannot).
	for name, claim := range map[string][2]string{
		"NUL in the email":   {"ops-1", "a\x00b@example.com"},
		"NUL in the subject": {"ops\x001", "ops@example.com"},
	} {
		token, err := auth.Mint(devSecret, claim[0], claim[1], false, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		tokens[name] = token
	}
	tokens["OIDC, NUL in the email"] = iss.Mint("user-1", "ann\x00@example.com")
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) { mustRefuse(t, chain, token) })
	}
}

// An erased person's rows hold "[erased]" for their email: a token
// claiming it (or any email that is no address) signs in without one.
func TestChain_Verify_drops_an_email_that_is_no_address(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	chain := auth.NewChain(auth.NewVerifier(devSecret, nil), newOIDC(t, iss))
	dev, err := auth.Mint(devSecret, "ops-1", "[erased]", false, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{"dev": dev, "OIDC": iss.Mint("user-1", "[erased]")} {
		if p := mustVerify(t, chain, token); p.Email != "" || p.Subject == "" {
			t.Errorf("%s token: %+v, want the subject and no email", name, p)
		}
	}
}

// Users' emails are kept with their domain in xn-- form, so the one a
// token claims is read so too.
func TestChain_Verify_writes_a_unicode_domain_in_its_xn_form(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	chain := auth.NewChain(auth.NewVerifier(devSecret, nil), newOIDC(t, iss))
	dev, err := auth.Mint(devSecret, "ops-1", "지우@회사.한국", false, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{"dev": dev, "OIDC": iss.Mint("user-1", "지우@회사.한국")} {
		if p := mustVerify(t, chain, token); p.Email != "지우@xn--vf4b131b.xn--3e0b707e" {
			t.Errorf("%s token: email %q", name, p.Email)
		}
	}
}

func TestChain_Verify_without_OIDC_refuses_issuer_tokens(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	chain := auth.NewChain(auth.NewVerifier(devSecret, nil), nil)

	mustVerify(t, chain, devToken(t, "ops-1", false))
	mustRefuse(t, chain, iss.Mint("user-1", "ann@example.com"))
}

// expiresInAnHour checks that a principal expires with its token, minted
// for an hour, and returns the zero time for comparing the rest.
func expiresInAnHour(t *testing.T, expires time.Time) time.Time {
	t.Helper()
	if left := time.Until(expires); left < 58*time.Minute || left > time.Hour {
		t.Fatalf("the principal expires at %v, not with its token (in an hour)", expires)
	}
	return time.Time{}
}

// A verifier given no secret (a Config built without one) must not take
// HS256 tokens signed with the empty key, which anyone can make: they
// would name any subject and email, and operators.
func TestVerifier_without_a_secret_refuses_every_token(t *testing.T) {
	forged, err := auth.Mint(nil, "ops-1", "ops@example.com", true, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string][]byte{"nil": nil, "empty": {}} {
		t.Run(name, func(t *testing.T) {
			mustRefuse(t, auth.NewVerifier(secret, nil), forged)
			mustRefuse(t, auth.NewChain(auth.NewVerifier(secret, nil), nil), forged)
		})
	}
}
