package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

type partnerPersonBody struct {
	Email     string   `json:"email"`
	FirstName string   `json:"firstName"`
	LastName  string   `json:"lastName"`
	Roles     []string `json:"roles,omitempty"`
}

func (p partnerPersonBody) person() partner.Person {
	return partner.Person{Email: p.Email, FirstName: p.FirstName, LastName: p.LastName, Roles: p.Roles}
}

type registerPartnerBody struct {
	Name  string            `json:"name"`
	Admin partnerPersonBody `json:"admin"`
}

type partnerRegisteredBody struct {
	PartnerID   uuid.UUID `json:"partnerId"`
	AdminUserID uuid.UUID `json:"adminUserId"`
	Position    string    `json:"position"`
}

type partnerUserAddedBody struct {
	UserID   uuid.UUID `json:"userId"`
	Position string    `json:"position"`
}

type partnerRolesBody struct {
	Roles []string `json:"roles"`
}

type grantBody struct {
	GranteePartnerID string `json:"granteePartnerId"`
	SourcePartnerID  string `json:"sourcePartnerId"`
}

type channelChangeBody struct {
	FromPartnerID string `json:"fromPartnerId"`
	ToPartnerID   string `json:"toPartnerId"`
}

func partnerRoutes(c Commands, log *slog.Logger) []kit.Route {
	return []kit.Route{{
		Method: http.MethodPost, Path: "/v1/partners", Access: kit.Operator,
		Summary: "Register a partner organization with its first user, a global admin (admin.roles, if given, must include global_admin)",
		Request: registerPartnerBody{}, Response: partnerRegisteredBody{}, Success: http.StatusCreated,
		Statuses: []int{400, 401, 403},
		Handler: command(log, nil, func(r *http.Request, _ ids, b registerPartnerBody) (int, any, error) {
			res, err := c.RegisterPartner.Handle(r.Context(), commands.RegisterPartner{By: actor(r), Name: b.Name, Admin: b.Admin.person()})
			return http.StatusCreated, partnerRegisteredBody{res.PartnerID, res.AdminUserID, res.Position.String()}, err
		}),
	}, {
		Method: http.MethodPost, Path: "/v1/partners/{partnerId}/users", Access: kit.SignedIn,
		Summary: "Add a user to a partner organization, with partner roles (global admins and user management admins)",
		Request: partnerPersonBody{}, Response: partnerUserAddedBody{}, Success: http.StatusCreated,
		Statuses: []int{400, 401, 403, 404, 409},
		Handler: command(log, []string{"partnerId"}, func(r *http.Request, id ids, b partnerPersonBody) (int, any, error) {
			res, err := c.AddPartnerUser.Handle(r.Context(), commands.AddPartnerUser{By: actor(r), PartnerID: id["partnerId"], Person: b.person()})
			return http.StatusCreated, partnerUserAddedBody{res.UserID, res.Position.String()}, err
		}),
	}, {
		Method: http.MethodPut, Path: "/v1/partners/{partnerId}/users/{userId}/roles", Access: kit.SignedIn,
		Summary: "Save a partner user's whole set of partner roles (global admins and user management admins; the last global admin stays; an erased user is given none)",
		Request: partnerRolesBody{}, Response: positionBody{}, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, []string{"partnerId", "userId"}, func(r *http.Request, id ids, b partnerRolesBody) (int, any, error) {
			pos, err := c.ChangePartnerUser.Handle(r.Context(), commands.ChangePartnerUser{By: actor(r), PartnerID: id["partnerId"], UserID: id["userId"], Roles: b.Roles})
			return http.StatusOK, positionBody{pos.String()}, err
		}),
	}, {
		Method: http.MethodDelete, Path: "/v1/partners/{partnerId}/users/{userId}", Access: kit.SignedIn,
		Summary:  "Remove a user from a partner organization (global admins and user management admins; the last global admin stays)",
		Response: positionBody{}, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, []string{"partnerId", "userId"}, func(r *http.Request, id ids, _ noBody) (int, any, error) {
			pos, err := c.ChangePartnerUser.Handle(r.Context(), commands.ChangePartnerUser{By: actor(r), PartnerID: id["partnerId"], UserID: id["userId"], Remove: true})
			return http.StatusOK, positionBody{pos.String()}, err
		}),
	}, {
		Method: http.MethodPut, Path: "/v1/accounts/{accountId}/partners/{partnerId}", Access: kit.Operator,
		Summary:  "Record that a partner serves the account",
		Response: positionBody{}, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409},
		Handler: command(log, []string{"accountId", "partnerId"}, func(r *http.Request, id ids, _ noBody) (int, any, error) {
			pos, err := c.AssociatePartner.Handle(r.Context(), commands.AssociatePartner{By: actor(r), AccountID: id["accountId"], PartnerID: id["partnerId"]})
			return http.StatusOK, positionBody{pos.String()}, err
		}),
	}, {
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/channel-partner-changes", Access: kit.Operator,
		Summary: "Record a change of channel partner: what the previous partner ordered, and the grants naming it, pass to the new one",
		Request: channelChangeBody{}, Response: positionBody{}, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, []string{"accountId"}, func(r *http.Request, id ids, b channelChangeBody) (int, any, error) {
			from, p1 := bodyID("fromPartnerId", b.FromPartnerID, false)
			to, p2 := bodyID("toPartnerId", b.ToPartnerID, false)
			if err := invalid(p1, p2); err != nil {
				return 0, nil, err
			}
			pos, err := c.ChangeChannelPartner.Handle(r.Context(), commands.ChangeChannelPartner{By: actor(r), AccountID: id["accountId"], FromPartnerID: *from, ToPartnerID: *to})
			return http.StatusOK, positionBody{pos.String()}, err
		}),
	}, {
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/partner-visibility/grants", Access: kit.SignedIn,
		Summary: "Let a partner see what another partner ordered for the account (Account Administrators; needs two partners serving the account)",
		Request: grantBody{}, Response: positionBody{}, Success: http.StatusCreated,
		Statuses: []int{400, 401, 403, 404, 409, 422},
		Handler: command(log, []string{"accountId"}, func(r *http.Request, id ids, b grantBody) (int, any, error) {
			grantee, p1 := bodyID("granteePartnerId", b.GranteePartnerID, false)
			source, p2 := bodyID("sourcePartnerId", b.SourcePartnerID, false)
			if err := invalid(p1, p2); err != nil {
				return 0, nil, err
			}
			pos, err := c.PartnerVisibility.Handle(r.Context(), commands.PartnerVisibility{By: actor(r), AccountID: id["accountId"], GranteePartnerID: *grantee, SourcePartnerID: *source})
			return http.StatusCreated, positionBody{pos.String()}, err
		}),
	}, {
		Method: http.MethodDelete, Path: "/v1/accounts/{accountId}/partner-visibility/grants/{granteeId}/{sourceId}", Access: kit.SignedIn,
		Summary:  "Revoke a partner's visibility of another partner's orders (Account Administrators)",
		Response: positionBody{}, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409},
		Handler: command(log, []string{"accountId", "granteeId", "sourceId"}, func(r *http.Request, id ids, _ noBody) (int, any, error) {
			pos, err := c.PartnerVisibility.Handle(r.Context(), commands.PartnerVisibility{By: actor(r), AccountID: id["accountId"],
				GranteePartnerID: id["granteeId"], SourcePartnerID: id["sourceId"], Revoke: true})
			return http.StatusOK, positionBody{pos.String()}, err
		}),
	}}
}

// invalid is a 400 naming every bad field, or nil.
func invalid(ps ...*kit.FieldProblem) error {
	var bad []kit.FieldProblem
	for _, p := range ps {
		if p != nil {
			bad = append(bad, *p)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return kit.Invalid(bad...)
}
