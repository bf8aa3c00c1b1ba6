package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

type rolesBody struct {
	Roles []string `json:"roles"`
}

type rolesChangedBody struct {
	Roles    []user.Role `json:"roles"`
	Position string      `json:"position"`
}

func changeRolesRoute(c Commands, log *slog.Logger) kit.Route {
	return kit.Route{
		Method: http.MethodPut, Path: "/v1/accounts/{accountId}/users/{userId}/roles", Access: kit.SignedIn,
		Summary:  "Save a user's whole set of roles (administrators; nobody grants or removes a role above their own; the last Account Administrator stays; an erased user is given none)",
		Request:  rolesBody{},
		Response: rolesChangedBody{},
		Success:  http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			accountID, p := pathID(r, "accountId")
			userID, p2 := pathID(r, "userId")
			var b rolesBody
			if p = firstProblem(p, p2); p == nil {
				p = kit.DecodeJSON(r, &b)
			}
			if p != nil {
				kit.WriteProblem(w, p)
				return
			}
			res, err := c.ChangeUserRoles.Handle(r.Context(), commands.ChangeUserRoles{By: actor(r), AccountID: accountID, UserID: userID, Roles: b.Roles})
			if err != nil {
				fail(w, r, log, err)
				return
			}
			kit.WriteJSON(w, http.StatusOK, rolesChangedBody{res.Roles, res.Position.String()})
		},
	}
}

type domainsBody struct {
	Domains  []string `json:"domains"`
	Position string   `json:"position"`
}

func domainRoute(c Commands, log *slog.Logger, remove bool) kit.Route {
	route := kit.Route{
		Method: http.MethodPut, Path: "/v1/accounts/{accountId}/domains/{domain}", Access: kit.SignedIn,
		Summary:  "Associate a domain (a DNS name, lower-cased; one account per domain; not a consumer mail service's, like gmail.com) with the account (Account Administrators)",
		Response: domainsBody{},
		Success:  http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409},
	}
	if remove {
		route.Method, route.Summary = http.MethodDelete, "Remove a domain from the account (Account Administrators)"
	}
	route.Handler = func(w http.ResponseWriter, r *http.Request) {
		accountID, p := pathID(r, "accountId")
		if p != nil {
			kit.WriteProblem(w, p)
			return
		}
		res, err := c.ChangeDomain.Handle(r.Context(), commands.ChangeDomain{By: actor(r), AccountID: accountID, Domain: r.PathValue("domain"), Remove: remove})
		if err != nil {
			fail(w, r, log, err)
			return
		}
		if res.Domains == nil {
			res.Domains = []string{}
		}
		kit.WriteJSON(w, http.StatusOK, domainsBody{res.Domains, res.Position.String()})
	}
	return route
}
