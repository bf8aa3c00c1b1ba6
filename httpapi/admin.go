package httpapi

import (
	"net/http"

	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/projections"
)

type projectionsBody struct {
	Items []projections.Status `json:"items"`
}

// AdminRoutes declares the operators' routes.
func AdminRoutes(m *projections.Monitor) []kit.Route {
	return []kit.Route{{
		Method: http.MethodGet, Path: "/v1/admin/projections", Access: kit.Operator,
		Summary:  "Per projector: version, build, checkpoint, head, lag in events and seconds, state (catching_up, live, stalled, failing), leader",
		Response: projectionsBody{},
		Success:  http.StatusOK,
		Statuses: []int{401, 403},
		Handler: func(w http.ResponseWriter, _ *http.Request) {
			kit.WriteJSON(w, http.StatusOK, projectionsBody{Items: m.Snapshot()})
		},
	}}
}
