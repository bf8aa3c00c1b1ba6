package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

type erasureBody struct {
	// Reason records the verified erasure request (a ticket, a date).
	Reason string `json:"reason"`
}

type erasedBody struct {
	Position string `json:"position"`
}

// erasureRoute forgets a user's personal data (operators only): see
// commands.ErasePersonalData.
func erasureRoute(c Commands, log *slog.Logger) kit.Route {
	return kit.Route{
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/users/{userId}/erasure", Access: kit.Operator,
		Summary:  "Erase a user's personal data on a verified request: their email and names read \"[erased]\" everywhere, history stays",
		Request:  erasureBody{},
		Response: erasedBody{},
		Success:  http.StatusOK,
		Statuses: []int{400, 401, 403, 404},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			accountID, p := pathID(r, "accountId")
			var userID uuid.UUID
			if p == nil {
				userID, p = pathID(r, "userId")
			}
			var b erasureBody
			if p == nil {
				p = kit.DecodeJSON(r, &b)
			}
			if p != nil {
				kit.WriteProblem(w, p)
				return
			}
			res, err := c.ErasePersonal.Handle(r.Context(), commands.ErasePersonalData{By: actor(r), AccountID: accountID, UserID: userID, Reason: b.Reason})
			if err != nil {
				fail(w, r, log, err)
				return
			}
			kit.WriteJSON(w, http.StatusOK, erasedBody{res.Position.String()})
		},
	}
}
