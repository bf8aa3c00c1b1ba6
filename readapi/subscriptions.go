package readapi

import (
	"context"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// Subscription is one subscription of an account as dashboards list it.
type Subscription struct {
	SubscriptionID string `json:"subscriptionId"`
	AccountID      string `json:"accountId"`
	ProductID      string `json:"productId"`
	ProductName    string `json:"productName"`
	Name           string `json:"name"`
	// Origin is self_service (bought by the customer) or partner.
	Origin string `json:"origin"`
	// OrderingPartner ordered it (for good); ChannelPartner answers for it
	// now, after any change of channel partner.
	OrderingPartner  *PartnerRef   `json:"orderingPartner"`
	ChannelPartner   *PartnerRef   `json:"channelPartner"`
	Buyer            Buyer         `json:"buyer"`
	PurchasedAt      time.Time     `json:"purchasedAt"`
	ExpiresAt        time.Time     `json:"expiresAt"`
	Price            Price         `json:"price"`
	AssignedLicenses int           `json:"assignedLicenses"`
	TotalLicenses    int           `json:"totalLicenses"`
	Status           string        `json:"status"`
	Cancellation     *Cancellation `json:"cancellation"`
}

// PartnerRef names a partner.
type PartnerRef struct {
	PartnerID string `json:"partnerId"`
	Name      string `json:"name"`
}

// Buyer is who bought a subscription: a customer user, a partner user or
// (no user id) an operator of the service. The name is read now, so a
// renamed or erased person shows as they are.
type Buyer struct {
	UserID *string `json:"userId"`
	Name   string  `json:"name"`
	Kind   string  `json:"kind"`
}

// Price is an exact decimal amount (a string, never a float) and its
// currency.
type Price struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// Cancellation is why and when a subscription was cancelled.
type Cancellation struct {
	Reason   string    `json:"reason"`
	Feedback string    `json:"feedback"`
	At       time.Time `json:"at"`
}

// SubscriptionPage is a page of subscriptions: Counts are of every
// subscription the viewer sees in the account, Total the number matching
// the filters.
type SubscriptionPage struct {
	Items      []Subscription     `json:"items"`
	NextCursor *string            `json:"nextCursor"`
	Counts     SubscriptionCounts `json:"counts"`
	Total      int                `json:"total"`
}

// subFilter is what narrows a subscription list; its values are SQL
// conditions of the whitelists below, and a product id.
type subFilter struct {
	origin, status, productID string
}

var (
	originFilters    = map[string]string{"all": "", "self_service": "s.ordering_partner_id IS NULL", "partner": "s.ordering_partner_id IS NOT NULL"}
	subStatusFilters = map[string]string{"all": "", "active": subActiveSQL, "cancelled": subCancelledSQL, "expired": subExpiredSQL}
	productIDForm    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

// subListRequest is a parsed subscription list, of an account or of what
// a partner sees in one.
type subListRequest struct {
	accountRequest
	partnerID uuid.UUID // uuid.Nil: the customer's own list
	filter    subFilter
	order     keyOrder[subRow]
	after     []any
	limit     int
}

func parseSubList(in *input, p kit.Principal) subListRequest {
	q := subListRequest{accountRequest: parseAccount(in, p), limit: in.intIn("limit", defaultLimit, 1, maxLimit)}
	if in.r.PathValue("partnerId") != "" {
		q.partnerID = in.pathUUID("partnerId")
	}
	_, q.filter.origin = oneOf(in, "origin", "all", originFilters)
	_, q.filter.status = oneOf(in, "status", "all", subStatusFilters)
	if q.filter.productID = in.values.Get("productId"); q.filter.productID != "" && !productIDForm.MatchString(q.filter.productID) {
		in.fail("productId", "1 to 64 lower-case letters, digits, dots, dashes or underscores")
	}
	order, ok := parseKeyOrder(in, "name", subSortKeys, subIDKey)
	q.order, q.after = order, cursorArgs(in, order, ok)
	return q
}

var subListQuery = map[string]string{
	"origin":    "all (default), self_service or partner",
	"status":    "all (default), active, cancelled or expired (decided at the time of the request)",
	"productId": "only subscriptions of this product",
	"sort":      "name (default), productName, purchasedAt, expiresAt or price (by amount); prefix - for descending",
	"limit":     "page size, 1 to 500 (default 50)",
	"cursor":    cursorQuery,
}

func (d Deps) subscriptionRoutes() []kit.Route {
	list := func(ctx context.Context, q subListRequest) (SubscriptionPage, error) {
		return listSubscriptions(ctx, d.Pool, q, d.Clock.Now())
	}
	return []kit.Route{orderGet(kit.Route{
		Path:     "/v1/accounts/{accountId}/subscriptions",
		Summary:  "Filter and sort every subscription of an account, self-service and partner-ordered, a page at a time",
		Response: exampleSubPage,
		Query:    subListQuery,
		Handler:  endpoint(d, reads{usersProjector, partnersProjector}, parseSubList, list),
	}), orderGet(kit.Route{
		Path:     "/v1/accounts/{accountId}/subscriptions/{subscriptionId}",
		Summary:  "One subscription of an account",
		Response: exampleSubscription,
		Handler: endpoint(d, reads{usersProjector, partnersProjector}, parseSubscription, func(ctx context.Context, q subRequest) (Subscription, error) {
			return subscriptionByID(ctx, d.Pool, q, d.Clock.Now())
		}),
	}), partnerGet(kit.Route{
		Path: "/v1/partners/{partnerId}/accounts/{accountId}/subscriptions",
		Summary: "The subscriptions of a customer the partner serves that the partner may see: those it answers for, " +
			"and those of the partners whose visibility the customer granted it",
		Response: exampleSubPage,
		Query:    subListQuery,
		Handler:  endpoint(d, reads{usersProjector, partnersProjector}, parseSubList, list),
	})}
}

// subRequest is a parsed GET of one subscription.
type subRequest struct {
	accountRequest
	subscriptionID uuid.UUID
}

func parseSubscription(in *input, p kit.Principal) subRequest {
	return subRequest{accountRequest: parseAccount(in, p), subscriptionID: in.pathUUID("subscriptionId")}
}

var (
	exampleSubscription = Subscription{
		SubscriptionID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f90", AccountID: exampleAccount.AccountID,
		ProductID: "office-e3", ProductName: "Office 365 E3", Name: "Office for the sales team", Origin: "partner",
		OrderingPartner: &examplePartnerRef, ChannelPartner: &examplePartnerRef,
		Buyer:       Buyer{UserID: new("0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91"), Name: "Sam Seller", Kind: "partner"},
		PurchasedAt: time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC), ExpiresAt: time.Date(2027, 1, 5, 9, 30, 0, 0, time.UTC),
		Price: Price{Amount: "1234.50", Currency: "EUR"}, AssignedLicenses: 12, TotalLicenses: 25, Status: "active",
	}
	exampleSubPage = SubscriptionPage{Items: []Subscription{exampleSubscription}, NextCursor: new("eyJzIjoibmFtZSIsImsiOlsiLi4uIl19"),
		Counts: SubscriptionCounts{All: 1, Active: 1}, Total: 1}
	examplePartnerRef = PartnerRef{PartnerID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7fa0", Name: "Litware Resellers"}
)

// subRow is a Subscription with the sort keys that are not part of it.
type subRow struct {
	Subscription
	nameSort, productSort string
}

var subIDKey = keyOf[subRow]{"s.subscription_id", "uuid", func(r subRow) string { return r.SubscriptionID }}

// subSortKeys whitelists the sorts of subscription lists. Names sort case
// insensitively, as PostgreSQL's lower() sees them; price by amount alone.
var subSortKeys = map[string][]keyOf[subRow]{
	"name":        {{"lower(s.name)", "text", func(r subRow) string { return r.nameSort }}},
	"productName": {{"lower(s.product_name)", "text", func(r subRow) string { return r.productSort }}},
	"purchasedAt": {{"s.purchased_at", "timestamptz", func(r subRow) string { return r.PurchasedAt.Format(time.RFC3339Nano) }}},
	"expiresAt":   {{"s.expires_at", "timestamptz", func(r subRow) string { return r.ExpiresAt.Format(time.RFC3339Nano) }}},
	"price":       {{"s.price_amount", "numeric", func(r subRow) string { return r.Price.Amount }}},
}
