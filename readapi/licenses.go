package readapi

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// licensesProjector is the checkpoint name of the projector that keeps
// rm_license_assignments.
const licensesProjector = "licenses"

// maxSelection bounds the users of ?userIds.
const maxSelection = 5000

// Entitlements are an account's licenses per product, and, for a
// selection of users, who of them holds each product.
type Entitlements struct {
	Products []ProductEntitlement `json:"products"`
	// Selection is the users asked about; Unknown those of them who are no
	// users of the account (they count in no state).
	Selection *Selection `json:"selection"`
}

// ProductEntitlement is one product the account bought: the licenses of
// its active subscriptions (none once they all ended: buy more).
type ProductEntitlement struct {
	ProductID         string                 `json:"productId"`
	ProductName       string                 `json:"productName"`
	TotalLicenses     int                    `json:"totalLicenses"`
	AssignedLicenses  int                    `json:"assignedLicenses"`
	AvailableLicenses int                    `json:"availableLicenses"`
	BuyMore           bool                   `json:"buyMore"`
	Subscriptions     []EntitledSubscription `json:"subscriptions"`
	// Selected: how many of the selection hold the product (all, some or
	// none of those who are users of the account), and who.
	Selected *Selected `json:"selected,omitempty"`
}

// EntitledSubscription is an active subscription a product's licenses
// come from.
type EntitledSubscription struct {
	SubscriptionID    string    `json:"subscriptionId"`
	Name              string    `json:"name"`
	ExpiresAt         time.Time `json:"expiresAt"`
	TotalLicenses     int       `json:"totalLicenses"`
	AssignedLicenses  int       `json:"assignedLicenses"`
	AvailableLicenses int       `json:"availableLicenses"`
}

// Selected is a product's holders among the selected users.
type Selected struct {
	State   string   `json:"state"` // all, some or none
	Count   int      `json:"count"`
	Holders []Holder `json:"holders"`
}

// License is where a license comes from, the service plans switched on,
// and who gave it when.
type License struct {
	SubscriptionID string    `json:"subscriptionId"`
	ServicePlans   []string  `json:"servicePlans"`
	AssignedAt     time.Time `json:"assignedAt"`
	AssignedBy     string    `json:"assignedBy"`
}

// Holder is a user holding a license.
type Holder struct {
	UserID    string `json:"userId"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	License
}

// Selection is the users of ?userIds.
type Selection struct {
	UserIDs []string `json:"userIds"`
	Unknown []string `json:"unknown"`
}

// UserLicenses are the licenses a user holds through the account's
// active subscriptions.
type UserLicenses struct {
	UserID   string        `json:"userId"`
	Licenses []UserLicense `json:"licenses"`
}

// UserLicense is one product a user holds.
type UserLicense struct {
	ProductID        string `json:"productId"`
	ProductName      string `json:"productName"`
	SubscriptionName string `json:"subscriptionName"`
	License
}

// AssignmentPage is a page of a subscription's holders.
type AssignmentPage struct {
	Items      []Holder `json:"items"`
	NextCursor *string  `json:"nextCursor"`
}

type entitlementsRequest struct {
	assignerRequest
	selection []uuid.UUID // nil: no selection
}

func parseEntitlements(in *input, p kit.Principal) entitlementsRequest {
	q := entitlementsRequest{assignerRequest: parseAssigner(in, p)}
	raw := in.values.Get("userIds")
	if raw == "" {
		return q
	}
	q.selection = []uuid.UUID{}
	seen := map[uuid.UUID]bool{}
	for i, s := range strings.Split(raw, ",") {
		id, err := uuid.Parse(strings.TrimSpace(s))
		if err != nil {
			in.fail("userIds", "comma-separated user ids; item "+strconv.Itoa(i)+" is not a UUID")
			return q
		}
		// A user named twice is one user: counted twice, a holder read
		// as "some" of a selection that all hold the product.
		if !seen[id] {
			seen[id] = true
			q.selection = append(q.selection, id)
		}
	}
	if len(q.selection) > maxSelection {
		in.fail("userIds", "at most "+strconv.Itoa(maxSelection)+" users")
	}
	return q
}

type userLicensesRequest struct {
	accountRequest
	userID uuid.UUID
}

type assignmentsRequest struct {
	subRequest
	order  keyOrder[Holder]
	cursor []any
	limit  int
}

var assignmentOrder = keyOrder[Holder]{name: "assignedAt", cols: []keyOf[Holder]{
	{"a.assigned_at", "timestamptz", func(h Holder) string { return h.AssignedAt.Format(time.RFC3339Nano) }},
	{"a.user_id", "uuid", func(h Holder) string { return h.UserID }},
}}

// licenseReads: the license routes read the holders (rm_license_assignments)
// of subscriptions (rm_subscriptions), with their names (rm_users).
var licenseReads = reads{usersProjector, partnersProjector, licensesProjector}

func (d Deps) licenseRoutes() []kit.Route {
	return []kit.Route{orderGet(kit.Route{
		Path: "/v1/accounts/{accountId}/licenses",
		Summary: "The account's licenses per product: total, assigned and available over its active subscriptions (buyMore when none is available); " +
			"with ?userIds, for each product whether all, some or none of those users hold it, and who",
		Response: exampleEntitlements,
		Query: map[string]string{"userIds": "a selection of users: up to 5,000 comma-separated user ids",
			"partnerId": partnerIDQuery + ": only the subscriptions the partner sees, and the licenses of them"},
		Handler: endpoint(d, licenseReads, parseEntitlements, func(ctx context.Context, q entitlementsRequest) (Entitlements, error) {
			return entitlements(ctx, d.Pool, q, d.Clock.Now())
		}),
	}), orderGet(kit.Route{
		Path:     "/v1/accounts/{accountId}/users/{userId}/licenses",
		Summary:  "The licenses a user of the account holds through its active subscriptions, with their service plans",
		Response: exampleUserLicenses,
		Handler: endpoint(d, licenseReads, func(in *input, p kit.Principal) userLicensesRequest {
			return userLicensesRequest{accountRequest: parseAccount(in, p), userID: in.pathUUID("userId")}
		}, func(ctx context.Context, q userLicensesRequest) (UserLicenses, error) {
			return userLicenses(ctx, d.Pool, q, d.Clock.Now())
		}),
	}), orderGet(kit.Route{
		Path:     "/v1/accounts/{accountId}/subscriptions/{subscriptionId}/assignments",
		Summary:  "Who holds a license of a subscription, with the service plans, earliest assignment first, a page at a time",
		Response: AssignmentPage{Items: []Holder{exampleHolder}},
		Query:    map[string]string{"limit": "page size, 1 to 500 (default 50)", "cursor": cursorQuery},
		Handler: endpoint(d, licenseReads, func(in *input, p kit.Principal) assignmentsRequest {
			q := assignmentsRequest{subRequest: parseSubscription(in, p), limit: in.intIn("limit", defaultLimit, 1, maxLimit)}
			q.order, q.cursor = pageBy(in, assignmentOrder)
			return q
		}, func(ctx context.Context, q assignmentsRequest) (AssignmentPage, error) {
			return assignments(ctx, d.Pool, q, d.Clock.Now())
		}),
	})}
}

var (
	exampleHolder = Holder{UserID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91", Email: "ji-woo.kim@contoso.example", FirstName: "Ji-woo", LastName: "Kim",
		License: License{SubscriptionID: exampleSubscription.SubscriptionID, ServicePlans: []string{"exchange-online-2", "teams"},
			AssignedAt: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), AssignedBy: "demo-admin"}}
	exampleEntitlements = Entitlements{Products: []ProductEntitlement{{
		ProductID: "office-e3", ProductName: "Office 365 E3", TotalLicenses: 25, AssignedLicenses: 25, BuyMore: true,
		Subscriptions: []EntitledSubscription{{SubscriptionID: exampleSubscription.SubscriptionID, Name: "Office for the sales team",
			ExpiresAt: exampleSubscription.ExpiresAt, TotalLicenses: 25, AssignedLicenses: 25}},
		Selected: &Selected{State: "some", Count: 1, Holders: []Holder{exampleHolder}},
	}}, Selection: &Selection{UserIDs: []string{exampleHolder.UserID, "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f92"}, Unknown: []string{}}}
	exampleUserLicenses = UserLicenses{UserID: exampleHolder.UserID, Licenses: []UserLicense{{ProductID: "office-e3", ProductName: "Office 365 E3",
		SubscriptionName: "Office for the sales team", License: exampleHolder.License}}}
)
