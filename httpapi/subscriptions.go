package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

type purchaseBody struct {
	ProductID   string `json:"productId"`
	ProductName string `json:"productName"`
	Name        string `json:"name"`
	// ExpiresAt is RFC 3339.
	ExpiresAt time.Time          `json:"expiresAt"`
	Price     subscription.Price `json:"price"`
	// TotalLicenses is how many licenses the subscription holds.
	TotalLicenses int `json:"totalLicenses"`
	// OrderingPartnerID, for a partner's order: the partner ordering (the
	// caller must be one of its users allowed to order).
	OrderingPartnerID string `json:"orderingPartnerId,omitempty"`
}

type purchasedBody struct {
	SubscriptionID uuid.UUID `json:"subscriptionId"`
	Position       string    `json:"position"`
}

type totalBody struct {
	Total int `json:"total"`
}

type totalSetBody struct {
	TotalLicenses int    `json:"totalLicenses"`
	Position      string `json:"position"`
}

type cancelBody struct {
	Reason   string `json:"reason"`
	Feedback string `json:"feedback,omitempty"`
}

type cancelledBody struct {
	Status   string `json:"status"`
	Position string `json:"position"`
}

func subscriptionRoutes(c Commands, log *slog.Logger) []kit.Route {
	sub := []string{"accountId", "subscriptionId"}
	return []kit.Route{{
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/subscriptions", Access: kit.SignedIn,
		Summary: "Buy a subscription for one product: self-service (Account Administrators, Account Managers) or ordered by a partner serving the account (orderingPartnerId; global admins, admin agents, sales agents)",
		Request: purchaseBody{}, Response: purchasedBody{}, Success: http.StatusCreated,
		Statuses: []int{400, 401, 403, 404, 409, 503},
		Handler: command(log, []string{"accountId"}, func(r *http.Request, id ids, b purchaseBody) (int, any, error) {
			partnerID, bad := bodyID("orderingPartnerId", b.OrderingPartnerID, true)
			if err := invalid(bad); err != nil {
				return 0, nil, err
			}
			res, err := c.PurchaseSubscription.Handle(r.Context(), commands.PurchaseSubscription{By: actor(r), AccountID: id["accountId"], Order: subscription.Order{
				ProductID: b.ProductID, ProductName: b.ProductName, Name: b.Name, OrderingPartnerID: partnerID,
				ExpiresAt: b.ExpiresAt, Price: b.Price, TotalLicenses: b.TotalLicenses,
			}})
			return http.StatusCreated, purchasedBody{res.SubscriptionID, res.Position.String()}, err
		}),
	}, {
		Method: http.MethodPut, Path: "/v1/accounts/{accountId}/subscriptions/{subscriptionId}/total-licenses", Access: kit.SignedIn,
		Summary: "Set the subscription's new total of licenses (100 -> 105 buys 5 more; never below those assigned)",
		Request: totalBody{}, Response: totalSetBody{}, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, sub, func(r *http.Request, id ids, b totalBody) (int, any, error) {
			pos, err := c.SetLicenseTotal.Handle(r.Context(), commands.SetLicenseTotal{By: actor(r), AccountID: id["accountId"], SubscriptionID: id["subscriptionId"], Total: b.Total})
			return http.StatusOK, totalSetBody{b.Total, pos.String()}, err
		}),
	}, {
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/subscriptions/{subscriptionId}/cancel", Access: kit.SignedIn,
		Summary: "Cancel an active subscription with a reason (too_expensive, no_longer_needed, switching_products, missing_features, not_working_as_expected, other) and optional feedback",
		Request: cancelBody{}, Response: cancelledBody{}, Success: http.StatusOK,
		Statuses: []int{400, 401, 403, 404, 409, 422, 503},
		Handler: command(log, sub, func(r *http.Request, id ids, b cancelBody) (int, any, error) {
			pos, err := c.CancelSubscription.Handle(r.Context(), commands.CancelSubscription{By: actor(r), AccountID: id["accountId"], SubscriptionID: id["subscriptionId"], Reason: b.Reason, Feedback: b.Feedback})
			return http.StatusOK, cancelledBody{string(subscription.StatusCancelled), pos.String()}, err
		}),
	}}
}
