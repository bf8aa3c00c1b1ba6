// Package httpapi is bizcenter's HTTP server: the command routes, the
// middleware every route shares (authentication, correlation ids,
// recovery, metrics), the operations routes and the OpenAPI document. The
// read routes come from package readapi.
package httpapi

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"strings"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// Server holds the routes and serves them.
type Server struct {
	mux      *http.ServeMux
	routes   []kit.Route
	verifier auth.Authenticator
	log      *slog.Logger
	metrics  *metrics
	// keys, when set, make the command routes honour Idempotency-Key.
	keys *IdempotencyKeys
}

// New builds the server from route declarations. Every route is mounted
// and described in /v1/openapi.json from the same declaration.
func New(verifier auth.Authenticator, log *slog.Logger, routes ...[]kit.Route) *Server {
	s := &Server{mux: http.NewServeMux(), verifier: verifier, log: log, metrics: newMetrics()}
	for _, group := range routes {
		for _, r := range group {
			s.mount(r)
		}
	}
	s.mount(s.openAPIRoute())
	s.mount(s.metricsRoute())
	return s
}

// Routes lists what is mounted.
func (s *Server) Routes() []kit.Route { return s.routes }

func (s *Server) mount(r kit.Route) {
	r, added := takesAfter(r)
	s.routes = append(s.routes, r)
	pattern := r.Method + " " + r.Path
	s.mux.Handle(pattern, s.metrics.wrap(pattern, queryTaken(r, added, s.authenticate(r, s.idempotent(r, r.Handler)))))
}

// takesAfter declares ?after on a read route of the API that does not:
// API.md promises it on every read route, so a dashboard may send the
// position of its last write to each one. Such a route reads no read
// model fed by the events (or the event store itself): it has nothing to
// wait for. It reports whether it declared it.
func takesAfter(r kit.Route) (kit.Route, bool) {
	if _, ok := r.Query["after"]; ok || r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/v1/") {
		return r, false
	}
	q := maps.Clone(r.Query) // declarations may share their map
	if q == nil {
		q = map[string]string{}
	}
	q["after"] = "a position a command answered; accepted as on every read route, and never waited for: this route reads no read model of the events"
	r.Query = q
	return r, true
}

// queryTaken refuses, before anything else of the route runs, a query
// parameter that does not parse (url.Values, which every route reads,
// would drop it without a word), one the route does not declare, or one
// given twice (kit.QueryProblem), and, on a route that takes ?after only
// as takesAfter declared it (after: true), an ?after that is not a
// position.
func queryTaken(r kit.Route, after bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.RawQuery != "" {
			if p := kit.QueryProblem(req.URL.RawQuery, r.Query); p != nil {
				kit.WriteProblem(w, p)
				return
			}
			// A route with nothing to wait for still takes ?after only as
			// a position, as every other read route does: a malformed one
			// is a 400 naming it, not ignored. A route that declares
			// ?after itself reads it (the read routes, the feed, a
			// stream's history), naming a bad one with its other bad
			// parameters.
			if after {
				if _, err := eventstore.ParsePosition(req.URL.Query().Get("after")); err != nil {
					kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: "after", Reason: kit.BadPosition}))
					return
				}
			}
		}
		next.ServeHTTP(w, req)
	})
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			s.log.ErrorContext(r.Context(), "panic in handler", "path", r.URL.Path, "panic", v)
			kit.WriteProblem(w, kit.NewProblem(http.StatusInternalServerError, "internal", "something went wrong on our side"))
		}
	}()
	r = withCorrelation(w, r)
	// Answers echo what people typed (names, reasons): a browser must
	// not read one as anything but the type it says (HTML, say).
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// Only a route's own path is served: the mux would redirect a path
	// like //v1/x or /v1/./x to its clean form, in HTML, and a client
	// would follow it with another method for all we know.
	if _, pattern := s.mux.Handler(r); pattern == "" || path.Clean(r.URL.Path) != r.URL.Path {
		s.noRoute(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// noRoute answers a request no route takes: 405 naming the methods the
// path has, or 404 when it has none.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	if path.Clean(r.URL.Path) == r.URL.Path {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := s.mux.Handler(probe); pattern != "" {
				allow = append(allow, m)
				if m == http.MethodGet {
					allow = append(allow, http.MethodHead) // the mux serves HEAD with GET
				}
			}
		}
	}
	if len(allow) == 0 {
		kit.WriteProblem(w, kit.NewProblem(http.StatusNotFound, "not-found", "no route "+r.Method+" "+r.URL.Path))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	kit.WriteProblem(w, kit.NewProblem(http.StatusMethodNotAllowed, "method-not-allowed",
		r.URL.Path+" takes "+strings.Join(allow, ", ")+", not "+r.Method))
}

// authenticate verifies the bearer token and enforces the route's access.
// A route open to anyone ignores a bad token (a stale one, say) and serves
// the caller as anonymous.
func (s *Server) authenticate(route kit.Route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verified, ok, err := s.principal(r)
		if err != nil && route.Access != kit.Anyone {
			unauthorized(w, "the bearer token is missing, malformed, expired or not signed by us")
			return
		}
		if ok {
			r = r.WithContext(kit.WithPrincipal(r.Context(), verified))
		}
		p, signedIn := kit.PrincipalFrom(r.Context())
		switch {
		case route.Access == kit.Anyone:
		case !signedIn:
			unauthorized(w, "this route needs Authorization: Bearer <token>")
			return
		case route.Access == kit.Operator && !p.Operator:
			kit.WriteProblem(w, kit.NewProblem(http.StatusForbidden, "forbidden", "this route is for operators of the service"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// principal verifies the request's bearer token: signedIn when it is
// valid, an error when there is an Authorization header but no valid one.
// The scheme's name is case-insensitive (RFC 9110, 11.1).
func (s *Server) principal(r *http.Request) (p kit.Principal, signedIn bool, err error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return p, false, nil
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(header), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return p, false, errors.New("not a bearer token")
	}
	if p, err = s.verifier.Verify(r.Context(), strings.TrimSpace(token)); err != nil {
		return p, false, err
	}
	return p, true, nil
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="bizcenter"`)
	kit.WriteProblem(w, kit.NewProblem(http.StatusUnauthorized, "unauthorized", detail))
}
