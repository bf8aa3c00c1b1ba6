package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// SignInOn wraps the route a dashboard calls first (GET /v1/me): when the
// caller signed in through the identity provider (whose emails are
// verified), pending invitations for their email are activated first, and
// the read waits for that activation.
func SignInOn(route kit.Route, signIn commands.Handler[commands.SignIn, commands.SignedIn], log *slog.Logger) kit.Route {
	next := route.Handler
	route.Handler = func(w http.ResponseWriter, r *http.Request) {
		p, ok := kit.PrincipalFrom(r.Context())
		if ok && strings.HasPrefix(p.Subject, "oidc:") {
			res, err := signIn.Handle(r.Context(), commands.SignIn{By: actor(r)})
			if err != nil {
				fail(w, r, log, err)
				return
			}
			if len(res.Activated) > 0 && !waitsPast(r, res.Position) {
				r.Header.Set(afterPosition, res.Position.String())
			}
		}
		next(w, r)
	}
	return route
}

// afterPosition is the header a read waits for a position by.
const afterPosition = "X-After-Position"

// waitsPast reports whether the request's own X-After-Position is pos or
// later, or is not a position at all (the read refuses it, 400): either
// way the sign-in's position must not take its place.
func waitsPast(r *http.Request, pos eventstore.Position) bool {
	h := r.Header.Get(afterPosition)
	if h == "" {
		return false
	}
	asked, err := eventstore.ParsePosition(h)
	return err != nil || !asked.Less(pos)
}
