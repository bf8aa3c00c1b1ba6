package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// asymmetric are the JWS algorithms signed with a private key and checked
// with a public one; HS256 is not among them.
var asymmetric = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// Chain sends each token to the verifier that can judge it: HS256 tokens
// to the dev verifier, tokens with an asymmetric alg whose iss is the
// configured issuer to the OIDC verifier. Anything else is refused before
// any key is fetched, so an HS256 token can never meet a public key and a
// stranger's token never reaches the issuer.
type Chain struct {
	dev  *Verifier
	oidc *OIDCVerifier
}

// NewChain routes to dev and, when it is not nil, to oidc.
func NewChain(dev *Verifier, oidc *OIDCVerifier) *Chain {
	return &Chain{dev: dev, oidc: oidc}
}

// Verify implements Authenticator.
func (c *Chain) Verify(ctx context.Context, token string) (kit.Principal, error) {
	p, err := c.verify(ctx, token)
	if err != nil {
		return p, err
	}
	// Signed is not sound: a subject or email PostgreSQL cannot take as
	// text would fail every query that names the caller.
	for _, claim := range []struct{ name, v string }{{"subject", p.Subject}, {"email", p.Email}} {
		if why := kit.BadText(claim.v); why != "" {
			return kit.Principal{}, invalid(fmt.Errorf("the %s %s", claim.name, why))
		}
	}
	// An email claim that is no address is no email: an erased person's
	// rows hold "[erased]" where their email was, and a token claiming
	// that must not be taken for every one of them.
	if !strings.Contains(p.Email, "@") {
		p.Email = ""
	}
	return p, nil
}

func (c *Chain) verify(ctx context.Context, token string) (kit.Principal, error) {
	alg, iss, err := peek(token)
	if err != nil {
		return kit.Principal{}, invalid(err)
	}
	switch {
	case alg == jwt.SigningMethodHS256.Alg() && c.dev != nil:
		return c.dev.Verify(ctx, token)
	case asymmetric[alg] && c.oidc != nil && iss == c.oidc.Issuer():
		return c.oidc.Verify(ctx, token)
	}
	return kit.Principal{}, invalid(fmt.Errorf("no verifier for alg %q and issuer %q", alg, iss))
}

// peek reads the header's alg and the payload's iss without checking
// anything: they only choose the verifier, which checks them again.
func peek(token string) (alg, iss string, err error) {
	var c jwt.RegisteredClaims
	t, _, err := jwt.NewParser().ParseUnverified(token, &c)
	if err != nil {
		return "", "", err
	}
	alg, _ = t.Header["alg"].(string)
	return alg, c.Issuer, nil
}
