package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

type personBody struct {
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Language  string `json:"language"`
	Country   string `json:"country"`
}

type registerAccountBody struct {
	Name                  string     `json:"name"`
	AgreementNumber       string     `json:"agreementNumber"`
	PurchaseAccountNumber string     `json:"purchaseAccountNumber"`
	Manager               personBody `json:"manager"`
}

type accountRegisteredBody struct {
	AccountID     uuid.UUID `json:"accountId"`
	ManagerUserID uuid.UUID `json:"managerUserId"`
	Position      string    `json:"position"`
}

func registerAccountRoute(c Commands, log *slog.Logger) kit.Route {
	return kit.Route{
		Method: http.MethodPost, Path: "/v1/accounts", Access: kit.Operator,
		Summary:  "Register a purchase account and invite its manager as Account Administrator",
		Request:  registerAccountBody{},
		Response: accountRegisteredBody{},
		Success:  http.StatusCreated,
		Statuses: []int{400, 401, 403, 409},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			var b registerAccountBody
			if p := kit.DecodeJSON(r, &b); p != nil {
				kit.WriteProblem(w, p)
				return
			}
			res, err := c.RegisterAccount.Handle(r.Context(), commands.RegisterAccount{
				By: actor(r), Name: b.Name, AgreementNumber: b.AgreementNumber, PurchaseAccountNumber: b.PurchaseAccountNumber,
				Manager: b.Manager.profile(nil),
			})
			if err != nil {
				fail(w, r, log, err)
				return
			}
			kit.WriteJSON(w, http.StatusCreated, accountRegisteredBody{res.AccountID, res.ManagerUserID, res.Position.String()})
		},
	}
}

func (p personBody) profile(roles []string) user.Profile {
	return user.Profile{Email: p.Email, FirstName: p.FirstName, LastName: p.LastName, Language: p.Language, Country: p.Country, Roles: roles}
}

type inviteUserBody struct {
	personBody
	Roles []string `json:"roles"`
}

type userInvitedBody struct {
	UserID              uuid.UUID `json:"userId"`
	Status              string    `json:"status"`
	InvitationExpiresAt time.Time `json:"invitationExpiresAt"`
	Position            string    `json:"position"`
}

func inviteUserRoute(c Commands, log *slog.Logger) kit.Route {
	return kit.Route{
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/users", Access: kit.SignedIn,
		Summary:  "Invite a user into the account (account, agreement or user administrators)",
		Request:  inviteUserBody{},
		Response: userInvitedBody{},
		Success:  http.StatusCreated,
		Statuses: []int{400, 401, 403, 404, 409},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			accountID, p := pathID(r, "accountId")
			var b inviteUserBody
			if p == nil {
				p = kit.DecodeJSON(r, &b)
			}
			if p != nil {
				kit.WriteProblem(w, p)
				return
			}
			res, err := c.InviteUser.Handle(r.Context(), commands.InviteUser{By: actor(r), AccountID: accountID, Profile: b.profile(b.Roles)})
			if err != nil {
				fail(w, r, log, err)
				return
			}
			kit.WriteJSON(w, http.StatusCreated, userInvitedBody{res.UserID, string(user.Pending), res.ExpiresAt, res.Position.String()})
		},
	}
}

type invitationResentBody struct {
	InvitationExpiresAt time.Time `json:"invitationExpiresAt"`
	Position            string    `json:"position"`
}

func resendInvitationRoute(c Commands, log *slog.Logger) kit.Route {
	return kit.Route{
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/users/{userId}/invitation/resend", Access: kit.SignedIn,
		Summary:  "Send a pending or expired user a new invitation, valid for 60 days",
		Response: invitationResentBody{},
		Success:  http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			accountID, p := pathID(r, "accountId")
			userID, p2 := pathID(r, "userId")
			if p = firstProblem(p, p2); p != nil {
				kit.WriteProblem(w, p)
				return
			}
			res, err := c.ResendInvitation.Handle(r.Context(), commands.ResendInvitation{By: actor(r), AccountID: accountID, UserID: userID})
			if err != nil {
				fail(w, r, log, err)
				return
			}
			kit.WriteJSON(w, http.StatusOK, invitationResentBody{res.ExpiresAt, res.Position.String()})
		},
	}
}

type acceptBody struct {
	Token string `json:"token"`
}

type acceptedBody struct {
	AccountID uuid.UUID `json:"accountId"`
	UserID    uuid.UUID `json:"userId"`
	Status    string    `json:"status"`
	Position  string    `json:"position"`
}

func acceptInvitationRoute(c Commands, log *slog.Logger) kit.Route {
	return kit.Route{
		Method: http.MethodPost, Path: "/v1/invitations/accept", Access: kit.Anyone,
		Summary:  "Accept an invitation with the token from its email; the user becomes active (422 invitation-expired, or invitation-replaced for the link of an invitation a resend replaced)",
		Request:  acceptBody{},
		Response: acceptedBody{},
		Success:  http.StatusOK,
		Statuses: []int{400, 404, 409, 422},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			var b acceptBody
			if p := kit.DecodeJSON(r, &b); p != nil {
				kit.WriteProblem(w, p)
				return
			}
			if b.Token == "" {
				kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: "token", Reason: "required"}))
				return
			}
			res, err := c.AcceptInvitation.Handle(r.Context(), commands.AcceptInvitation{Token: b.Token})
			if err != nil {
				fail(w, r, log, err)
				return
			}
			kit.WriteJSON(w, http.StatusOK, acceptedBody{res.AccountID, res.UserID, string(user.Active), res.Position.String()})
		},
	}
}

func firstProblem(ps ...*kit.Problem) *kit.Problem {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}
