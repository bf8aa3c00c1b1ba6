package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// DefaultEmailClaim holds the email unless OIDCConfig.EmailClaim says
// otherwise.
const DefaultEmailClaim = "email"

// oidcAlgorithms are the signing algorithms an OIDC verifier may accept.
var oidcAlgorithms = []string{oidc.RS256, oidc.ES256}

// OIDCConfig says whose access tokens to accept.
type OIDCConfig struct {
	// Issuer is the issuer URL exactly as the tokens' iss and the discovery
	// document spell it: https, or http on a loopback host (tests).
	Issuer string
	// Audience must be one of the token's aud values: the API audience or
	// the client id. Required.
	Audience string
	// EmailClaim names the claim holding the email (empty:
	// DefaultEmailClaim). email_verified is read under its own name.
	EmailClaim string
	// EmailsVerified says the issuer puts only verified addresses in the
	// email claim, so that an email without email_verified counts. Off
	// (the default), only email_verified true does: the email is who a
	// principal is in every account, and a first sign-in activates the
	// pending invitations of that address.
	EmailsVerified bool
	// Algorithms the tokens may be signed with: RS256 and ES256 (empty:
	// both).
	Algorithms []string
	// HTTPClient fetches the discovery document and the keys (nil: one with
	// a 10s timeout, which also bounds a discovery).
	HTTPClient *http.Client
	// Now is the clock of exp and nbf (nil: the real one).
	Now func() time.Time
	// Log hears about discoveries (nil: nothing is logged).
	Log *slog.Logger
}

// Validate reports every problem.
func (c OIDCConfig) Validate() error {
	var errs []error
	if err := checkIssuerURL(c.Issuer); err != nil {
		errs = append(errs, err)
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("oidc: the audience is required"))
	}
	for _, alg := range c.Algorithms {
		if !slices.Contains(oidcAlgorithms, alg) {
			errs = append(errs, fmt.Errorf("oidc: algorithm %q is not allowed (only %s)", alg, strings.Join(oidcAlgorithms, ", ")))
		}
	}
	return errors.Join(errs...)
}

func checkIssuerURL(issuer string) error {
	if issuer == "" {
		return errors.New("oidc: the issuer URL is required")
	}
	u, err := url.Parse(issuer)
	switch {
	case err != nil:
		return fmt.Errorf("oidc: issuer URL: %w", err)
	case u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("oidc: issuer URL %q needs a host and no query or fragment", issuer)
	case u.Scheme == "https", u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("oidc: issuer URL %q must be https (http only on a loopback host)", issuer)
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// OIDCSubject is the principal's Subject for the subject sub of issuer:
// "oidc:" + the first 8 hex digits of SHA-256(issuer) + ":" + sub. The tag
// keeps the same sub from two issuers (or a dev token) apart, and stays the
// same as long as the issuer URL is spelled the same.
func OIDCSubject(issuer, sub string) string {
	sum := sha256.Sum256([]byte(issuer))
	return "oidc:" + hex.EncodeToString(sum[:4]) + ":" + sub
}

// OIDCVerifier checks access tokens (JWTs) of one OpenID Connect issuer
// against the keys the issuer publishes. The issuer is discovered on first
// use, not at start, and again after a failure; keys are cached and fetched
// anew when a token names one the cache lacks (go-oidc's remote key set).
// Its principals are never operators.
type OIDCVerifier struct {
	cfg OIDCConfig

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier // nil until a discovery succeeds
	inflight *discovery            // the discovery under way, if any
}

// discovery is one attempt that concurrent callers share.
type discovery struct {
	done     chan struct{} // closed when verifier or err is set
	verifier *oidc.IDTokenVerifier
	err      error
}

// NewOIDCVerifier validates cfg; it does no I/O.
func NewOIDCVerifier(cfg OIDCConfig) (*OIDCVerifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.EmailClaim == "" {
		cfg.EmailClaim = DefaultEmailClaim
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = oidcAlgorithms
	}
	cfg.Algorithms = slices.Clone(cfg.Algorithms)
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &OIDCVerifier{cfg: cfg}, nil
}

// Issuer is the issuer whose tokens v accepts.
func (v *OIDCVerifier) Issuer() string { return v.cfg.Issuer }

// Verify checks the signature, iss, aud, exp (required) and nbf (go-oidc
// allows five minutes of clock skew on nbf, none on exp). The email is
// taken only when email_verified is true (or absent, with EmailsVerified).
func (v *OIDCVerifier) Verify(ctx context.Context, token string) (kit.Principal, error) {
	verifier, err := v.idTokenVerifier(ctx)
	if err != nil {
		return kit.Principal{}, invalid(err)
	}
	// A token without exp has a zero expiry, which go-oidc refuses as
	// expired.
	t, err := verifier.Verify(ctx, token)
	if err != nil {
		return kit.Principal{}, invalid(err)
	}
	if t.Subject == "" {
		return kit.Principal{}, invalid(errNoSubject)
	}
	var claims map[string]json.RawMessage
	if err := t.Claims(&claims); err != nil {
		return kit.Principal{}, invalid(err)
	}
	return kit.Principal{Subject: OIDCSubject(v.cfg.Issuer, t.Subject), Email: verifiedEmail(claims, v.cfg.EmailClaim, v.cfg.EmailsVerified),
		Expires: t.Expiry}, nil
}

// verifiedEmail is the email claim when email_verified says it is
// verified, or says nothing of an issuer whose emails all are. A string
// "true" counts as true (some issuers send strings).
func verifiedEmail(claims map[string]json.RawMessage, name string, allVerified bool) string {
	var email string
	if json.Unmarshal(claims[name], &email) != nil {
		return ""
	}
	raw, ok := claims["email_verified"]
	if !ok {
		if allVerified {
			return email
		}
		return ""
	}
	var verified any
	if json.Unmarshal(raw, &verified) != nil || verified != true && verified != "true" {
		return ""
	}
	return email
}

// idTokenVerifier returns the verifier built from the issuer's discovery
// document, discovering it if no discovery has succeeded yet. One
// discovery runs at a time; a caller waits for it as long as its context
// allows. A failed discovery is forgotten, so the next token tries again.
func (v *OIDCVerifier) idTokenVerifier(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	if v.verifier != nil {
		defer v.mu.Unlock()
		return v.verifier, nil
	}
	d := v.inflight
	if d == nil {
		d = &discovery{done: make(chan struct{})}
		v.inflight = d
		// Not cancelled with ctx: a caller that gives up must not fail the
		// discovery others wait for. The HTTP client's timeout bounds it.
		go v.discover(context.WithoutCancel(ctx), d)
	}
	v.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("oidc discovery of %s: %w", v.cfg.Issuer, ctx.Err())
	case <-d.done:
		return d.verifier, d.err
	}
}

func (v *OIDCVerifier) discover(ctx context.Context, d *discovery) {
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, v.cfg.HTTPClient), v.cfg.Issuer)
	if err != nil {
		d.err = fmt.Errorf("oidc discovery of %s: %w", v.cfg.Issuer, err)
		v.cfg.Log.WarnContext(ctx, "oidc discovery failed, the next token tries again", "issuer", v.cfg.Issuer, "error", err)
	} else {
		// The key set outlives this request: give it only the client.
		keys := oidc.ClientContext(context.Background(), v.cfg.HTTPClient)
		d.verifier = provider.VerifierContext(keys, &oidc.Config{
			ClientID:             v.cfg.Audience,
			SupportedSigningAlgs: v.cfg.Algorithms,
			Now:                  v.cfg.Now,
		})
		v.cfg.Log.InfoContext(ctx, "oidc issuer discovered", "issuer", v.cfg.Issuer)
	}
	v.mu.Lock()
	v.verifier = d.verifier
	v.inflight = nil
	v.mu.Unlock()
	close(d.done)
}
