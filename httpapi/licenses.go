package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// LicenseCommands are the handlers behind the license routes.
type LicenseCommands struct {
	Assign           commands.Handler[commands.AssignLicenses, commands.LicenseResults]
	Revoke           commands.Handler[commands.RevokeLicenses, commands.LicenseResults]
	AssignToSome     commands.Handler[commands.AssignSubscriptionLicenses, commands.LicenseResults]
	UnassignFromSome commands.Handler[commands.UnassignSubscriptionLicenses, commands.LicenseResults]
}

// NewLicenseCommands wires the license handlers, each with logging.
func NewLicenseCommands(d commands.Deps, l commands.Licensing, log *slog.Logger) LicenseCommands {
	return LicenseCommands{
		Assign:           commands.Logged("AssignLicenses", log, commands.AssignLicensesHandler(d, l)),
		Revoke:           commands.Logged("RevokeLicenses", log, commands.RevokeLicensesHandler(d, l)),
		AssignToSome:     commands.Logged("AssignSubscriptionLicenses", log, commands.AssignSubscriptionLicensesHandler(d, l)),
		UnassignFromSome: commands.Logged("UnassignSubscriptionLicenses", log, commands.UnassignSubscriptionLicensesHandler(d, l)),
	}
}

type licenseChoiceBody struct {
	ProductID string `json:"productId"`
	// ServicePlans to switch on; left out: all of the product's.
	ServicePlans []string `json:"servicePlans,omitempty"`
}

type assignLicensesBody struct {
	UserIDs  []string            `json:"userIds"`
	Products []licenseChoiceBody `json:"products"`
	// PartnerID: act as a user of this partner (its admin agents, global
	// admins, helpdesk agents, sales agents, user management admins), with
	// the licenses of what it answers for.
	PartnerID string `json:"partnerId,omitempty"`
}

type revokeLicensesBody struct {
	UserIDs    []string `json:"userIds"`
	ProductIDs []string `json:"productIds"`
	PartnerID  string   `json:"partnerId,omitempty"`
}

type subscriptionAssignBody struct {
	UserIDs      []string `json:"userIds"`
	ServicePlans []string `json:"servicePlans,omitempty"`
}

type subscriptionUnassignBody struct {
	UserIDs []string `json:"userIds"`
}

type licenseResultBody struct {
	UserID    uuid.UUID `json:"userId"`
	ProductID string    `json:"productId"`
	// Outcome: assigned, already_held, revoked, not_held or refused.
	Outcome string `json:"outcome"`
	// Reason of a refusal, and what it refers to.
	Reason         string     `json:"reason,omitempty"`
	Detail         string     `json:"detail,omitempty"`
	SubscriptionID *uuid.UUID `json:"subscriptionId,omitempty"`
}

type licenseResultsBody struct {
	Results []licenseResultBody `json:"results"`
	// Summary counts the results by outcome.
	Summary  map[string]int `json:"summary"`
	Position string         `json:"position"`
}

var exampleResults = licenseResultsBody{Results: []licenseResultBody{
	{UserID: uuid.MustParse("0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91"), ProductID: "office-e3", Outcome: "assigned", SubscriptionID: new(uuid.MustParse("0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f90"))},
	{UserID: uuid.MustParse("0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f92"), ProductID: "office-e3", Outcome: "refused", Reason: licensing.UserNotActive},
}, Summary: map[string]int{"assigned": 1, "refused": 1}, Position: "812-57"}

// LicenseRoutes declares the license command routes and the catalog.
func LicenseRoutes(c LicenseCommands, cat *licensing.Catalog, log *slog.Logger) []kit.Route {
	sub := []string{"accountId", "subscriptionId"}
	const bulk = "; a result per user and product: assigned, already_held or refused with its reason " +
		"(user-not-in-account, user-erased, user-not-active, not-sold-in-country, conflicts-with-held, conflicts-in-request, requires-product, not-enough-licenses)"
	return []kit.Route{{
		Method: http.MethodGet, Path: "/v1/catalog", Access: kit.SignedIn,
		Summary:  "The product catalog: products with their service plans, the countries where they are sold, what they require and what they conflict with",
		Response: cat, Success: http.StatusOK, Statuses: []int{401},
		Handler: func(w http.ResponseWriter, _ *http.Request) { kit.WriteJSON(w, http.StatusOK, cat) },
	}, {
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/licenses/assign", Access: kit.SignedIn,
		Summary: "Assign several products to many users (up to 10,000) at once (Account Administrators, Account Managers, or a partner's assigning roles with partnerId)" +
			bulk + ". All or nothing per product: when its free licenses do not cover every user who passes the other rules, none gets it",
		Request: assignLicensesBody{}, Response: exampleResults, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 503},
		Handler: command(log, []string{"accountId"}, func(r *http.Request, id ids, b assignLicensesBody) (int, any, error) {
			choices := make([]licensing.Choice, len(b.Products))
			for i, p := range b.Products {
				choices[i] = licensing.Choice{ProductID: p.ProductID, ServicePlans: p.ServicePlans}
			}
			return bulkRun(b.PartnerID, func(partnerID *uuid.UUID) (commands.LicenseResults, error) {
				return c.Assign.Handle(r.Context(), commands.AssignLicenses{By: actor(r), AccountID: id["accountId"], PartnerID: partnerID,
					UserIDs: userIDs(b.UserIDs), Products: choices})
			})
		}),
	}, {
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/licenses/revoke", Access: kit.SignedIn,
		Summary: "Revoke several products from many users at once; a result per user and product: revoked, not_held, or refused " +
			"(user-not-in-account; required-by-held when the user keeps a product that requires it; held-outside-your-subscriptions)",
		Request: revokeLicensesBody{}, Response: exampleResults, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 503},
		Handler: command(log, []string{"accountId"}, func(r *http.Request, id ids, b revokeLicensesBody) (int, any, error) {
			return bulkRun(b.PartnerID, func(partnerID *uuid.UUID) (commands.LicenseResults, error) {
				return c.Revoke.Handle(r.Context(), commands.RevokeLicenses{By: actor(r), AccountID: id["accountId"], PartnerID: partnerID,
					UserIDs: userIDs(b.UserIDs), ProductIDs: b.ProductIDs})
			})
		}),
	}, {
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/subscriptions/{subscriptionId}/assign", Access: kit.SignedIn,
		Summary: "Self-service: give up to 20 users of the account a license of this subscription, with the service plans chosen (default all); " +
			"all or nothing: 422 assignment-refused naming each refused user",
		Request: subscriptionAssignBody{}, Response: exampleResults, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, sub, func(r *http.Request, id ids, b subscriptionAssignBody) (int, any, error) {
			res, err := c.AssignToSome.Handle(r.Context(), commands.AssignSubscriptionLicenses{By: actor(r), AccountID: id["accountId"],
				SubscriptionID: id["subscriptionId"], UserIDs: userIDs(b.UserIDs), ServicePlans: b.ServicePlans})
			return http.StatusOK, resultsBody(res), refusedProblem(err, b.UserIDs)
		}),
	}, {
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/subscriptions/{subscriptionId}/unassign", Access: kit.SignedIn,
		Summary: "Self-service: take the licenses of up to 20 users back to this subscription; all or nothing: 422 assignment-refused naming each refused user",
		Request: subscriptionUnassignBody{}, Response: exampleResults, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, sub, func(r *http.Request, id ids, b subscriptionUnassignBody) (int, any, error) {
			res, err := c.UnassignFromSome.Handle(r.Context(), commands.UnassignSubscriptionLicenses{By: actor(r), AccountID: id["accountId"],
				SubscriptionID: id["subscriptionId"], UserIDs: userIDs(b.UserIDs)})
			return http.StatusOK, resultsBody(res), refusedProblem(err, b.UserIDs)
		}),
	}}
}

// bulkRun parses the partner a bulk body names (optional) and answers
// what run, given it, returns.
func bulkRun(partner string, run func(partnerID *uuid.UUID) (commands.LicenseResults, error)) (int, any, error) {
	partnerID, bad := bodyID("partnerId", partner, true)
	if err := invalid(bad); err != nil {
		return 0, nil, err
	}
	res, err := run(partnerID)
	return http.StatusOK, resultsBody(res), err
}

// userIDs parses the user ids of a body; one that is not a UUID becomes
// uuid.Nil, which the command names as userIds[i] once the caller's rights
// are checked.
func userIDs(in []string) []uuid.UUID {
	out := make([]uuid.UUID, len(in))
	for i, s := range in {
		out[i], _ = uuid.Parse(s)
	}
	return out
}

func resultsBody(res commands.LicenseResults) licenseResultsBody {
	out := licenseResultsBody{Results: make([]licenseResultBody, len(res.Results)), Summary: map[string]int{}, Position: res.Position.String()}
	for i, r := range res.Results {
		out.Results[i] = licenseResultBody{UserID: r.UserID, ProductID: r.ProductID, Outcome: string(r.Outcome),
			Reason: r.Reason, Detail: r.Detail, SubscriptionID: r.SubscriptionID}
		out.Summary[string(r.Outcome)]++
	}
	return out
}

// refusedProblem turns the refusals of an all-or-nothing request into a
// 422 naming each refused user as userIds[i] (i as in the body).
func refusedProblem(err error, ids []string) error {
	var refused *licensing.RequestRefused
	if !errors.As(err, &refused) {
		return err
	}
	at := map[string]int{}
	for i, s := range ids {
		if u, perr := uuid.Parse(s); perr == nil {
			if _, seen := at[u.String()]; !seen {
				at[u.String()] = i
			}
		}
	}
	p := kit.NewProblem(http.StatusUnprocessableEntity, "assignment-refused", "all or nothing: "+refused.Error()+" (errors names each refused user)")
	for _, r := range refused.Results {
		reason := r.Reason
		if r.Detail != "" {
			reason += ": " + r.Detail
		}
		p.Errors = append(p.Errors, kit.FieldProblem{Field: fmt.Sprintf("userIds[%d]", at[r.UserID.String()]), Reason: reason})
	}
	return p
}
