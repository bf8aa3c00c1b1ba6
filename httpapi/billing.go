package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/payment"
)

type profileBody struct {
	Name string `json:"name"`
}

type profileCreatedBody struct {
	BillingProfileID uuid.UUID `json:"billingProfileId"`
	Position         string    `json:"position"`
}

// cardBody is a card as a person enters it: it goes to the payment
// provider, and only the provider's token, the brand, the last four digits
// and the expiry are kept.
type cardBody struct {
	Number       string          `json:"number"`
	SecurityCode string          `json:"securityCode"`
	ExpiryMonth  int             `json:"expiryMonth"`
	ExpiryYear   int             `json:"expiryYear"`
	NameOnCard   string          `json:"nameOnCard"`
	Address      payment.Address `json:"address"`
}

func (b cardBody) card() payment.Card {
	return payment.Card{Number: b.Number, SecurityCode: b.SecurityCode, ExpiryMonth: b.ExpiryMonth, ExpiryYear: b.ExpiryYear,
		NameOnCard: b.NameOnCard, Address: b.Address}
}

// cardEditBody changes what is given of a card; expiryMonth and
// expiryYear go together.
type cardEditBody struct {
	SecurityCode *string          `json:"securityCode,omitempty"`
	ExpiryMonth  *int             `json:"expiryMonth,omitempty"`
	ExpiryYear   *int             `json:"expiryYear,omitempty"`
	NameOnCard   *string          `json:"nameOnCard,omitempty"`
	Address      *payment.Address `json:"address,omitempty"`
}

// maskedCard is all an answer shows of a card.
type maskedCard struct {
	Brand       string `json:"brand"`
	Last4       string `json:"last4"`
	Masked      string `json:"masked"`
	ExpiryMonth int    `json:"expiryMonth"`
	ExpiryYear  int    `json:"expiryYear"`
}

func masked(c billing.Card) maskedCard {
	return maskedCard{Brand: c.Brand, Last4: c.Last4, Masked: "•••• " + c.Last4, ExpiryMonth: c.ExpiryMonth, ExpiryYear: c.ExpiryYear}
}

type cardSavedBody struct {
	PaymentMethodID uuid.UUID  `json:"paymentMethodId"`
	Card            maskedCard `json:"card"`
	Position        string     `json:"position"`
}

func cardSaved(res commands.PaymentMethodSaved) cardSavedBody {
	return cardSavedBody{PaymentMethodID: res.PaymentMethodID, Card: masked(res.Card), Position: res.Position.String()}
}

var exampleCard = cardBody{Number: "4242 4242 4242 4242", SecurityCode: "123", ExpiryMonth: 12, ExpiryYear: 2028, NameOnCard: "Nora Wind",
	Address: payment.Address{Line1: "1 Main St", City: "Seattle", Region: "WA", PostalCode: "98101", Country: "US"}}

func billingProfileRoutes(c BillingCommands, log *slog.Logger) []kit.Route {
	profile := []string{"accountId", "billingProfileId"}
	method := []string{"accountId", "billingProfileId", "paymentMethodId"}
	methods := "/v1/accounts/{accountId}/billing-profiles/{billingProfileId}/payment-methods"
	cardStatuses := []int{400, 401, 403, 404, 409, 422}
	return []kit.Route{{
		Method: http.MethodPost, Path: "/v1/accounts/{accountId}/billing-profiles", Access: kit.SignedIn,
		Summary: "Create a billing profile of the account (Account Administrators, Account Managers)",
		Request: profileBody{Name: "Contoso HQ"}, Response: profileCreatedBody{}, Success: http.StatusCreated,
		Statuses: []int{400, 401, 403, 404, 409},
		Handler: command(log, []string{"accountId"}, func(r *http.Request, id ids, b profileBody) (int, any, error) {
			res, err := c.CreateProfile.Handle(r.Context(), commands.CreateBillingProfile{By: actor(r), AccountID: id["accountId"], Name: b.Name})
			return http.StatusCreated, profileCreatedBody{res.ProfileID, res.Position.String()}, err
		}),
	}, {
		Method: http.MethodPost, Path: methods, Access: kit.SignedIn,
		Summary: "Add a card to a billing profile: the payment provider checks it (Luhn, security code, expiry) and vaults it; " +
			"only its token, brand, last four digits and expiry are kept",
		Request: exampleCard, Response: cardSavedBody{}, Success: http.StatusCreated, Statuses: cardStatuses,
		Handler: command(log, profile, func(r *http.Request, id ids, b cardBody) (int, any, error) {
			res, err := c.AddCard.Handle(r.Context(), commands.AddPaymentMethod{By: actor(r), AccountID: id["accountId"], ProfileID: id["billingProfileId"], Card: b.card()})
			return http.StatusCreated, cardSaved(res), err
		}),
	}, {
		Method: http.MethodPatch, Path: methods + "/{paymentMethodId}", Access: kit.SignedIn,
		Summary: "Edit a card: its security code, expiry (month and year together), name on card or address",
		Request: cardEditBody{SecurityCode: new("321"), ExpiryMonth: new(3), ExpiryYear: new(2030)}, Response: cardSavedBody{},
		Success: http.StatusOK, Statuses: cardStatuses,
		Handler: command(log, method, func(r *http.Request, id ids, b cardEditBody) (int, any, error) {
			res, err := c.EditCard.Handle(r.Context(), commands.EditPaymentMethod{By: actor(r), AccountID: id["accountId"], ProfileID: id["billingProfileId"],
				PaymentMethodID: id["paymentMethodId"], Edit: payment.Edit{SecurityCode: b.SecurityCode, ExpiryMonth: b.ExpiryMonth, ExpiryYear: b.ExpiryYear,
					NameOnCard: b.NameOnCard, Address: b.Address}})
			return http.StatusOK, cardSaved(res), err
		}),
	}, {
		Method: http.MethodPost, Path: methods + "/{paymentMethodId}/replace", Access: kit.SignedIn,
		Summary: "Replace a card by another one (a new payment method id); the payment provider forgets the card replaced",
		Request: exampleCard, Response: cardSavedBody{}, Success: http.StatusCreated, Statuses: cardStatuses,
		Handler: command(log, method, func(r *http.Request, id ids, b cardBody) (int, any, error) {
			res, err := c.ReplaceCard.Handle(r.Context(), commands.ReplacePaymentMethod{By: actor(r), AccountID: id["accountId"], ProfileID: id["billingProfileId"],
				PaymentMethodID: id["paymentMethodId"], Card: b.card()})
			return http.StatusCreated, cardSaved(res), err
		}),
	}, {
		Method: http.MethodDelete, Path: methods + "/{paymentMethodId}", Access: kit.SignedIn,
		Summary:  "Remove a card from a billing profile; the payment provider forgets it",
		Response: positionBody{}, Success: http.StatusOK, Statuses: []int{400, 401, 403, 404, 409},
		Handler: command(log, method, func(r *http.Request, id ids, _ noBody) (int, any, error) {
			pos, err := c.RemoveCard.Handle(r.Context(), commands.RemovePaymentMethod{By: actor(r), AccountID: id["accountId"], ProfileID: id["billingProfileId"],
				PaymentMethodID: id["paymentMethodId"]})
			return http.StatusOK, positionBody{pos.String()}, err
		}),
	}}
}
