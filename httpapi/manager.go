package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

type managerEmailBody struct {
	Email string `json:"email"`
}

type managerChangedBody struct {
	ManagerUserID uuid.UUID `json:"managerUserId"`
	Position      string    `json:"position"`
}

// managerRoutes are a partner's actions on a customer's first
// administrator (resending is the users' resend route).
func managerRoutes(c Commands, log *slog.Logger) []kit.Route {
	return []kit.Route{{
		Method: http.MethodPut, Path: "/v1/accounts/{accountId}/manager", Access: kit.SignedIn,
		Summary: "Designate another purchase account manager: an existing user (made Account Administrator) or a new one invited as such (partners serving the account with global admin, admin agent or helpdesk agent roles; operators)",
		Request: personBody{}, Response: managerChangedBody{}, Success: http.StatusOK,
		// 403: a user of a partner serving the account whose roles do not
		// reach the manager, or a user of the account (docs/roles.md);
		// 422: one of the partner's own users.
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, []string{"accountId"}, func(r *http.Request, id ids, b personBody) (int, any, error) {
			res, err := c.DesignateManager.Handle(r.Context(), commands.DesignateManager{By: actor(r), AccountID: id["accountId"], Manager: b.profile(nil)})
			return http.StatusOK, managerChangedBody{res.ManagerUserID, res.Position.String()}, err
		}),
	}, {
		Method: http.MethodPut, Path: "/v1/accounts/{accountId}/manager/email", Access: kit.SignedIn,
		Summary: "Change the email of a purchase account manager who has not signed in yet; a new invitation goes to it and the old link stops working (same callers as designating)",
		Request: managerEmailBody{}, Response: managerChangedBody{}, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, []string{"accountId"}, func(r *http.Request, id ids, b managerEmailBody) (int, any, error) {
			res, err := c.ChangeManagerEmail.Handle(r.Context(), commands.ChangeManagerEmail{By: actor(r), AccountID: id["accountId"], Email: b.Email})
			return http.StatusOK, managerChangedBody{res.ManagerUserID, res.Position.String()}, err
		}),
	}}
}
