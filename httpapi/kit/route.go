package kit

import (
	"context"
	"net/http"
	"time"
)

// Access says who may call a route; the OpenAPI document shows it.
type Access string

const (
	Anyone   Access = "anyone"
	SignedIn Access = "signed in"
	Operator Access = "operator"
)

// Route declares one HTTP route: the server mounts it and the OpenAPI
// document describes it, from this one declaration.
type Route struct {
	Method  string
	Path    string // a net/http pattern path, e.g. /v1/accounts/{accountId}
	Summary string
	Access  Access
	// Request and Response are example values whose types the OpenAPI
	// document describes (nil: no body).
	Request  any
	Response any
	// OptionalBody: the request body may be left out (defaults apply).
	OptionalBody bool
	// Query lists query parameters: name -> description.
	Query map[string]string
	// Headers lists the request headers the route reads beyond
	// Authorization: name -> description.
	Headers map[string]string
	// Statuses lists the answers other than the success one.
	Statuses []int
	Success  int
	Handler  http.HandlerFunc
}

// Principal is the verified caller of a request.
type Principal struct {
	Subject  string
	Email    string
	Operator bool
	// Expires is when the token the principal came from expires (zero:
	// not known); a stream opened with it ends then (the feed).
	Expires time.Time
}

type principalKey struct{}

// WithPrincipal attaches the caller to a request context.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the caller, if the request carried a valid token.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
