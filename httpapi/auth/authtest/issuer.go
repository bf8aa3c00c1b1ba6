// Package authtest runs a local OpenID Connect issuer for tests: a
// discovery document, a JWKS of RSA keys that can be rotated, and RS256
// access tokens minted on demand.
package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is a local OIDC issuer on an httptest server, closed when the test
// ends.
type Issuer struct {
	t        testing.TB
	server   *httptest.Server
	audience string

	mu        sync.Mutex
	published []signingKey // in the JWKS; the last one signs
	other     signingKey   // never published: a key of another issuer
	down      bool
}

type signingKey struct {
	kid string
	key *rsa.PrivateKey
}

// NewIssuer starts an issuer whose tokens are for audience.
func NewIssuer(t testing.TB, audience string) *Issuer {
	t.Helper()
	i := &Issuer{t: t, audience: audience}
	i.published = []signingKey{i.newKey("key-1")}
	i.other = i.newKey("other-1")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.discovery)
	mux.HandleFunc("GET /jwks", i.jwks)
	i.server = httptest.NewServer(i.unlessDown(mux))
	t.Cleanup(i.server.Close)
	return i
}

// URL is the issuer URL, the iss of its tokens.
func (i *Issuer) URL() string { return i.server.URL }

// Audience is the aud of its tokens.
func (i *Issuer) Audience() string { return i.audience }

// Rotate publishes a new key and signs with it from now on; the old keys
// stay published.
func (i *Issuer) Rotate() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append(i.published, i.newKey(fmt.Sprintf("key-%d", len(i.published)+1)))
}

// SetDown makes every route answer 503 (true) or work again (false).
func (i *Issuer) SetDown(down bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.down = down
}

func (i *Issuer) newKey(kid string) signingKey {
	i.t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		i.t.Fatalf("authtest: generate key: %v", err)
	}
	return signingKey{kid: kid, key: key}
}

func (i *Issuer) unlessDown(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		down := i.down
		i.mu.Unlock()
		if down {
			http.Error(w, "issuer down", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (i *Issuer) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                i.URL(),
		"jwks_uri":                              i.URL() + "/jwks",
		"authorization_endpoint":                i.URL() + "/authorize",
		"token_endpoint":                        i.URL() + "/token",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (i *Issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	i.mu.Lock()
	keys := make([]map[string]string, 0, len(i.published))
	for _, k := range i.published {
		keys = append(keys, map[string]string{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
			"n": b64(k.key.N.Bytes()),
			"e": b64(big.NewInt(int64(k.key.E)).Bytes()),
		})
	}
	i.mu.Unlock()
	writeJSON(w, map[string]any{"keys": keys})
}

// PublicKeyPEM is the current signing key's public half, as an attacker
// could fetch it (for algorithm-confusion tests).
func (i *Issuer) PublicKeyPEM() []byte {
	i.t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(&i.published[len(i.published)-1].key.PublicKey)
	if err != nil {
		i.t.Fatalf("authtest: public key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Mint signs an RS256 access token for sub with the current key: iss, aud,
// sub, email, email_verified true, iat, nbf and exp in an hour, changed by
// opts.
func (i *Issuer) Mint(sub, email string, opts ...Option) string {
	i.t.Helper()
	now := time.Now()
	m := minting{claims: jwt.MapClaims{
		"iss": i.URL(), "aud": i.audience, "sub": sub,
		"email": email, "email_verified": true,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}}
	i.mu.Lock()
	m.key = i.published[len(i.published)-1]
	other := i.other
	i.mu.Unlock()
	for _, opt := range opts {
		opt(&m, other)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, m.claims)
	tok.Header["kid"] = m.key.kid
	s, err := tok.SignedString(m.key.key)
	if err != nil {
		i.t.Fatalf("authtest: sign: %v", err)
	}
	return s
}

// minting is a token being made.
type minting struct {
	claims jwt.MapClaims
	key    signingKey
}

// Option changes a minted token.
type Option func(m *minting, other signingKey)

// Expired makes the token expired an hour ago.
func Expired() Option { return Claim("exp", time.Now().Add(-time.Hour).Unix()) }

// Audience sets aud.
func Audience(aud string) Option { return Claim("aud", aud) }

// EmailUnverified sets email_verified to false.
func EmailUnverified() Option { return Claim("email_verified", false) }

// OtherKey signs with a key the issuer never published, as another issuer
// would.
func OtherKey() Option {
	return func(m *minting, other signingKey) { m.key = other }
}

// Claim sets a claim; a nil value removes it.
func Claim(name string, value any) Option {
	return func(m *minting, _ signingKey) {
		if value == nil {
			delete(m.claims, name)
			return
		}
		m.claims[name] = value
	}
}
