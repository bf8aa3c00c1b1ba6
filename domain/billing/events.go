// Package billing is the billing profile aggregate: an account's profiles,
// each with the payment methods it pays with, and the invoicing rule that
// turns subscription events into exact decimal amounts (invoice.go).
//
// A payment method is kept as the payment provider's token and what a
// person needs to recognise the card: brand, last four digits, expiry.
// The card number and the security code never reach an event: the command
// hands them to the provider (package payment) and keeps its answer.
package billing

import (
	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// Card is a payment method as bizcenter keeps it.
type Card struct {
	// Token is the provider's reference to the vaulted card.
	Token       string `json:"token"`
	Brand       string `json:"brand"`
	Last4       string `json:"last4"`
	ExpiryMonth int    `json:"expiryMonth"`
	ExpiryYear  int    `json:"expiryYear"`
}

// ProfileCreated: an account has a new billing profile.
type ProfileCreated struct {
	ProfileID uuid.UUID `json:"profileId"`
	AccountID uuid.UUID `json:"accountId"`
	Name      string    `json:"name"`
	CreatedBy string    `json:"createdBy"`
}

// PaymentMethodAdded: the profile may pay with one more card.
type PaymentMethodAdded struct {
	ProfileID       uuid.UUID `json:"profileId"`
	AccountID       uuid.UUID `json:"accountId"`
	PaymentMethodID uuid.UUID `json:"paymentMethodId"`
	Card            Card      `json:"card"`
	AddedBy         string    `json:"addedBy"`
}

// PaymentMethodUpdated: the same card was edited at the provider; Card is
// as it is now, Changed names what was edited (securityCode, expiry,
// nameOnCard, address), never the values.
type PaymentMethodUpdated struct {
	ProfileID       uuid.UUID `json:"profileId"`
	AccountID       uuid.UUID `json:"accountId"`
	PaymentMethodID uuid.UUID `json:"paymentMethodId"`
	Card            Card      `json:"card"`
	Changed         []string  `json:"changed"`
	UpdatedBy       string    `json:"updatedBy"`
}

// PaymentMethodReplaced: another card took the place of one.
type PaymentMethodReplaced struct {
	ProfileID               uuid.UUID `json:"profileId"`
	AccountID               uuid.UUID `json:"accountId"`
	ReplacedPaymentMethodID uuid.UUID `json:"replacedPaymentMethodId"`
	PaymentMethodID         uuid.UUID `json:"paymentMethodId"`
	Card                    Card      `json:"card"`
	ReplacedBy              string    `json:"replacedBy"`
}

// PaymentMethodRemoved: the profile no longer pays with the card.
type PaymentMethodRemoved struct {
	ProfileID       uuid.UUID `json:"profileId"`
	AccountID       uuid.UUID `json:"accountId"`
	PaymentMethodID uuid.UUID `json:"paymentMethodId"`
	RemovedBy       string    `json:"removedBy"`
}

func (ProfileCreated) EventType() string        { return "billing.profile_created" }
func (PaymentMethodAdded) EventType() string    { return "billing.payment_method_added" }
func (PaymentMethodUpdated) EventType() string  { return "billing.payment_method_updated" }
func (PaymentMethodReplaced) EventType() string { return "billing.payment_method_replaced" }
func (PaymentMethodRemoved) EventType() string  { return "billing.payment_method_removed" }

func init() {
	event.Register[ProfileCreated](1)
	event.Register[PaymentMethodAdded](1)
	event.Register[PaymentMethodUpdated](1)
	event.Register[PaymentMethodReplaced](1)
	event.Register[PaymentMethodRemoved](1)
}

// Stream is the stream of one billing profile.
func Stream(id uuid.UUID) string { return "billing-profile-" + id.String() }
