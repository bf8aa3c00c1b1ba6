package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/idn"
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
	// Users' emails are kept with their domain in xn-- form: an issuer's
	// "ana@회사.한국" is the user ana@xn--vf4b131b.xn--3e0b707e.
	if ascii, ok := idn.ASCIIEmail(p.Email); ok {
		p.Email = ascii
	}
	return p, nil
}

func (c *Chain) verify(ctx context.Context, token string) (kit.Principal, error) {
	head, payload, err := segments(token)
	if err != nil {
		return kit.Principal{}, invalid(err)
	}
	alg, err := member(head, "alg")
	if err != nil {
		return kit.Principal{}, invalid(fmt.Errorf("token header: %w", err))
	}
	if alg == jwt.SigningMethodHS256.Alg() && c.dev != nil {
		return c.dev.Verify(ctx, token)
	}
	iss, err := member(payload, "iss")
	if err != nil {
		return kit.Principal{}, invalid(fmt.Errorf("token payload: %w", err))
	}
	if asymmetric[alg] && c.oidc != nil && iss == c.oidc.Issuer() {
		return c.oidc.Verify(ctx, token)
	}
	return kit.Principal{}, invalid(fmt.Errorf("no verifier for alg %q and issuer %q", alg, iss))
}

// member is the string member name of a segment's JSON object ("" when
// absent), by its exact name, as the verifiers read it (decoding into a
// struct would match "ALG" too).
func member(seg, name string) (string, error) {
	var m map[string]json.RawMessage
	if err := decodeSegment(seg, &m); err != nil {
		return "", err
	}
	raw, ok := m[name]
	if !ok {
		return "", nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// segments are a JWS's header and payload, still encoded. Only the alg
// and the iss are read here, unchecked, to choose the verifier, which
// parses and checks everything again: a full parse here was more of a
// request's cost than the dev verifier's own.
func segments(token string) (head, payload string, err error) {
	head, rest, ok := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(sig, ".") {
		return "", "", errors.New("a token is three parts joined by dots")
	}
	return head, payload, nil
}

// decodeSegment decodes a JWS segment's base64url JSON into v.
func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
