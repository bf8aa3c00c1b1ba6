// Package auth verifies and mints the bearer tokens of the HTTP API. Dev
// tokens are HS256 JWTs signed with a shared secret; access tokens of an
// OpenID Connect issuer are verified against its published keys (see
// OIDCVerifier), and a Chain picks the verifier for each token. What a
// principal may do comes from the events, so a token says only who it is.
package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// claims are the token's fields.
type claims struct {
	Email    string `json:"email,omitempty"`
	Operator bool   `json:"operator,omitempty"`
	jwt.RegisteredClaims
}

// Authenticator turns a bearer token into the principal it names. Every
// refusal wraps ErrInvalidToken.
type Authenticator interface {
	Verify(ctx context.Context, token string) (kit.Principal, error)
}

// Verifier checks HS256 tokens.
type Verifier struct {
	secret []byte
	now    func() time.Time
}

// NewVerifier verifies tokens signed with secret; now is the clock used
// for expiry (nil: the real one).
func NewVerifier(secret []byte, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{secret: secret, now: now}
}

// ErrInvalidToken covers every reason a token is refused.
var ErrInvalidToken = errors.New("invalid token")

var errNoSubject = errors.New("no subject")

// errNoSecret: the verifier was given no secret. A token signed with the
// empty key is one anyone can make, naming any subject, email and the
// operator flag: with no secret, no dev token is valid.
var errNoSecret = errors.New("no dev token secret is configured")

// invalid wraps why a token is refused.
func invalid(err error) error { return fmt.Errorf("%w: %w", ErrInvalidToken, err) }

// Verify returns the principal a token names. It does no I/O, so ctx is
// only there to satisfy Authenticator.
func (v *Verifier) Verify(_ context.Context, token string) (kit.Principal, error) {
	if len(v.secret) == 0 {
		return kit.Principal{}, invalid(errNoSecret)
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(v.now),
	)
	if err != nil {
		return kit.Principal{}, invalid(err)
	}
	if c.Subject == "" {
		return kit.Principal{}, invalid(errNoSubject)
	}
	return kit.Principal{Subject: c.Subject, Email: c.Email, Operator: c.Operator, Expires: c.ExpiresAt.Time}, nil
}

// Mint signs a dev token.
func Mint(secret []byte, subject, email string, operator bool, ttl time.Duration, now time.Time) (string, error) {
	c := claims{
		Email:    email,
		Operator: operator,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}
