package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/bizcenter/bizcenter/commands"
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
			if len(res.Activated) > 0 {
				r.Header.Set("X-After-Position", res.Position.String())
			}
		}
		next(w, r)
	}
	return route
}
