package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// ReadyCheck tells why the service is not ready, or nil.
type ReadyCheck func(ctx context.Context) error

type healthBody struct {
	Status string `json:"status"`
}

// OpsRoutes declares /healthz (the process runs) and /readyz (the database,
// and EventStoreDB when it holds the events, reachable, migrations applied,
// projectors running).
func OpsRoutes(ready ReadyCheck) []kit.Route {
	return []kit.Route{
		{
			Method: http.MethodGet, Path: "/healthz", Summary: "200 while the process runs",
			Access: kit.Anyone, Success: http.StatusOK, Response: healthBody{},
			Handler: func(w http.ResponseWriter, _ *http.Request) {
				kit.WriteJSON(w, http.StatusOK, healthBody{Status: "ok"})
			},
		},
		{
			Method: http.MethodGet, Path: "/readyz", Summary: "200 when the database (and EventStoreDB, when it holds the events) is reachable, migrations applied and projectors running; 503 with the reason otherwise",
			Access: kit.Anyone, Success: http.StatusOK, Response: healthBody{}, Statuses: []int{503},
			Handler: func(w http.ResponseWriter, r *http.Request) {
				ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
				defer cancel()
				if err := ready(ctx); err != nil {
					p := kit.NewProblem(http.StatusServiceUnavailable, "not-ready", err.Error())
					p.RetryAfter = 1
					kit.WriteProblem(w, p)
					return
				}
				kit.WriteJSON(w, http.StatusOK, healthBody{Status: "ready"})
			},
		},
	}
}
