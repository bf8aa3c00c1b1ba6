package auth_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/httpapi/auth/authtest"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

const audience = "bizcenter-api"

func newOIDC(t *testing.T, iss *authtest.Issuer, change ...func(*auth.OIDCConfig)) *auth.OIDCVerifier {
	t.Helper()
	cfg := auth.OIDCConfig{Issuer: iss.URL(), Audience: iss.Audience()}
	for _, c := range change {
		c(&cfg)
	}
	v, err := auth.NewOIDCVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustVerify(t *testing.T, v auth.Authenticator, token string) kit.Principal {
	t.Helper()
	p, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return p
}

func mustRefuse(t *testing.T, v auth.Authenticator, token string) {
	t.Helper()
	_, err := v.Verify(context.Background(), token)
	if !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("want ErrInvalidToken, got %v", err)
	}
	t.Logf("refused: %v", err)
}

// refusedTokens are tokens that name the test issuer but must not pass.
func refusedTokens(t *testing.T, iss *authtest.Issuer) map[string]string {
	valid := iss.Mint("user-1", "ann@example.com")
	parts := strings.Split(valid, ".")
	sig := []byte(parts[2])
	if mid := len(sig) / 2; sig[mid] == 'A' { // another digit, mid-signature
		sig[mid] = 'B'
	} else {
		sig[mid] = 'A'
	}
	claims := jwt.MapClaims{"iss": iss.URL(), "aud": iss.Audience(), "sub": "user-1", "email": "ann@example.com", "exp": time.Now().Add(time.Hour).Unix()}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	confused, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(iss.PublicKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"expired":                             iss.Mint("user-1", "ann@example.com", authtest.Expired()),
		"wrong audience":                      iss.Mint("user-1", "ann@example.com", authtest.Audience("someone-else")),
		"wrong issuer":                        iss.Mint("user-1", "ann@example.com", authtest.Claim("iss", "https://issuer.example")),
		"other issuer's key":                  iss.Mint("user-1", "ann@example.com", authtest.OtherKey()),
		"tampered signature":                  parts[0] + "." + parts[1] + "." + string(sig),
		"no exp":                              iss.Mint("user-1", "ann@example.com", authtest.Claim("exp", nil)),
		"not yet valid":                       iss.Mint("user-1", "ann@example.com", authtest.Claim("nbf", time.Now().Add(time.Hour).Unix())),
		"no subject":                          iss.Mint("", "ann@example.com"),
		"alg none":                            none,
		"HS256 with the public key as secret": confused,
	}
}

func TestOIDCVerifier_Verify_maps_subject_and_email_never_operator(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	v := newOIDC(t, iss)

	p := mustVerify(t, v, iss.Mint("user-1", "ann@example.com", authtest.Claim("operator", true)))
	p.Expires = expiresInAnHour(t, p.Expires)

	want := kit.Principal{Subject: auth.OIDCSubject(iss.URL(), "user-1"), Email: "ann@example.com"}
	if p != want {
		t.Fatalf("got %+v, want %+v", p, want)
	}
	if !regexp.MustCompile(`^oidc:[0-9a-f]{8}:user-1$`).MatchString(p.Subject) {
		t.Fatalf("subject %q is not oidc:<tag>:<sub>", p.Subject)
	}
}

func TestOIDCSubject_differs_by_issuer(t *testing.T) {
	if auth.OIDCSubject("https://a.example", "u") == auth.OIDCSubject("https://b.example", "u") {
		t.Fatal("two issuers give the same subject")
	}
}

func TestOIDCVerifier_Verify_refuses_bad_tokens(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	v := newOIDC(t, iss)
	mustVerify(t, v, iss.Mint("user-1", "ann@example.com")) // discovered, keys cached
	for name, token := range refusedTokens(t, iss) {
		t.Run(name, func(t *testing.T) { mustRefuse(t, v, token) })
	}
}

func TestOIDCVerifier_Verify_email(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	v := newOIDC(t, iss)
	custom := newOIDC(t, iss, func(c *auth.OIDCConfig) { c.EmailClaim = "https://bizcenter.example/email" })
	trusting := newOIDC(t, iss, func(c *auth.OIDCConfig) { c.EmailsVerified = true })
	cases := []struct {
		name  string
		v     *auth.OIDCVerifier
		token string
		want  string
	}{
		{"verified", v, iss.Mint("u", "ann@example.com"), "ann@example.com"},
		{"email_verified false drops it", v, iss.Mint("u", "ann@example.com", authtest.EmailUnverified()), ""},
		{"email_verified \"false\" drops it", v, iss.Mint("u", "ann@example.com", authtest.Claim("email_verified", "false")), ""},
		{"email_verified \"true\" keeps it", v, iss.Mint("u", "ann@example.com", authtest.Claim("email_verified", "true")), "ann@example.com"},
		{"no email_verified drops it", v, iss.Mint("u", "ann@example.com", authtest.Claim("email_verified", nil)), ""},
		{"no email_verified, from an issuer whose emails are verified, keeps it", trusting, iss.Mint("u", "ann@example.com", authtest.Claim("email_verified", nil)), "ann@example.com"},
		{"email_verified false, from that issuer too, drops it", trusting, iss.Mint("u", "ann@example.com", authtest.EmailUnverified()), ""},
		{"not a string", v, iss.Mint("u", "", authtest.Claim("email", 42)), ""},
		{"custom claim", custom, iss.Mint("u", "", authtest.Claim("https://bizcenter.example/email", "bob@example.com")), "bob@example.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := mustVerify(t, c.v, c.token).Email; got != c.want {
				t.Fatalf("email %q, want %q", got, c.want)
			}
		})
	}
}

func TestOIDCVerifier_Verify_fetches_new_keys_after_rotation(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	v := newOIDC(t, iss)
	before := iss.Mint("user-1", "ann@example.com")
	mustVerify(t, v, before)

	iss.Rotate()
	mustVerify(t, v, iss.Mint("user-2", "bob@example.com")) // unknown kid: keys refetched
	mustVerify(t, v, before)                                // the old key is still published
}

func TestOIDCVerifier_Verify_discovers_once_the_issuer_is_up(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	v := newOIDC(t, iss)
	token := iss.Mint("user-1", "ann@example.com")

	iss.SetDown(true)
	for range 2 { // a failed discovery is not remembered
		mustRefuse(t, v, token)
	}
	iss.SetDown(false)
	mustVerify(t, v, token)
}

// gate holds every request until it is opened.
type gate chan struct{}

func (g gate) RoundTrip(r *http.Request) (*http.Response, error) {
	<-g
	return http.DefaultTransport.RoundTrip(r)
}

func TestOIDCVerifier_Verify_honours_the_request_context(t *testing.T) {
	iss := authtest.NewIssuer(t, audience)
	g := make(gate)
	v := newOIDC(t, iss, func(c *auth.OIDCConfig) { c.HTTPClient = &http.Client{Transport: g} })
	token := iss.Mint("user-1", "ann@example.com")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := v.Verify(ctx, token)
	if !errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, context.Canceled) {
		t.Fatalf("want ErrInvalidToken and context.Canceled, got %v", err)
	}

	close(g) // the discovery the cancelled caller started goes on for others
	mustVerify(t, v, token)
}

func TestOIDCConfig_Validate(t *testing.T) {
	cases := []struct {
		name string
		cfg  auth.OIDCConfig
		want []string // parts of the error; none: valid
	}{
		{"https", auth.OIDCConfig{Issuer: "https://id.example/realms/b", Audience: "api"}, nil},
		{"http on loopback", auth.OIDCConfig{Issuer: "http://127.0.0.1:9000", Audience: "api", Algorithms: []string{"ES256"}}, nil},
		{"empty", auth.OIDCConfig{}, []string{"issuer URL is required", "audience is required"}},
		{"http elsewhere", auth.OIDCConfig{Issuer: "http://id.example", Audience: "api"}, []string{"must be https"}},
		{"query", auth.OIDCConfig{Issuer: "https://id.example?x=1", Audience: "api"}, []string{"no query"}},
		{"symmetric algorithm", auth.OIDCConfig{Issuer: "https://id.example", Audience: "api", Algorithms: []string{"RS256", "HS256"}}, []string{`"HS256" is not allowed`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if (err == nil) != (len(c.want) == 0) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			for _, part := range c.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("%q lacks %q", err, part)
				}
			}
		})
	}
}
