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
	return eraseRoute("/v1/accounts/{accountId}/users/{userId}/erasure", "accountId",
		"Erase a user's personal data on a verified request: their email and names read \"[erased]\" everywhere, history stays",
		log, func(r *http.Request, owner, userID uuid.UUID, reason string) (commands.PersonalDataErased, error) {
			return c.ErasePersonal.Handle(r.Context(), commands.ErasePersonalData{By: actor(r), AccountID: owner, UserID: userID, Reason: reason})
		})
}

// partnerUserErasureRoute forgets a partner user's personal data
// (operators only): see commands.ErasePartnerUserPersonalData.
func partnerUserErasureRoute(c Commands, log *slog.Logger) kit.Route {
	return eraseRoute("/v1/partners/{partnerId}/users/{userId}/erasure", "partnerId",
		"Erase the personal data of a partner's user (present or removed) on a verified request: their email and names read \"[erased]\" everywhere, history stays",
		log, func(r *http.Request, owner, userID uuid.UUID, reason string) (commands.PersonalDataErased, error) {
			return c.ErasePartnerUser.Handle(r.Context(), commands.ErasePartnerUserPersonalData{By: actor(r), PartnerID: owner, UserID: userID, Reason: reason})
		})
}

// eraseRoute is an erasure route under path, whose owner (the account or
// partner) is the path value ownerParam.
func eraseRoute(path, ownerParam, summary string, log *slog.Logger,
	erase func(r *http.Request, owner, userID uuid.UUID, reason string) (commands.PersonalDataErased, error)) kit.Route {
	return kit.Route{
		Method: http.MethodPost, Path: path, Access: kit.Operator,
		Summary:  summary,
		Request:  erasureBody{},
		Response: erasedBody{},
		Success:  http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			owner, p := pathID(r, ownerParam)
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
			res, err := erase(r, owner, userID, b.Reason)
			if err != nil {
				fail(w, r, log, err)
				return
			}
			kit.WriteJSON(w, http.StatusOK, erasedBody{res.Position.String()})
		},
	}
}
