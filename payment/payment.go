// Package payment is the port to the payment provider that vaults cards:
// bizcenter hands it a card's number and security code and keeps only its
// answer (a token, the brand, the last four digits and the expiry). Local
// is the provider of tests and demos.
package payment

import (
	"context"
	"errors"
)

// Address is the billing address on a card.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"`
}

// Card is what a person enters: it goes to the provider and nowhere else.
type Card struct {
	Number       string
	SecurityCode string
	ExpiryMonth  int
	ExpiryYear   int
	NameOnCard   string
	Address      Address
}

// Edit is what editing a card may change; nil leaves a field as it is.
type Edit struct {
	SecurityCode *string
	ExpiryMonth  *int
	ExpiryYear   *int
	NameOnCard   *string
	Address      *Address
}

// Method is the provider's answer: all bizcenter keeps of a card.
type Method struct {
	Token       string
	Brand       string
	Last4       string
	ExpiryMonth int
	ExpiryYear  int
}

// Provider vaults cards. Its errors are *Invalid (a field is wrong),
// ErrExpired, ErrDeclined or ErrUnknownToken, or a failure to reach it.
type Provider interface {
	// Tokenize checks a card (number, security code, expiry, name,
	// address) and vaults it.
	Tokenize(ctx context.Context, c Card) (Method, error)
	// Update edits a vaulted card; the answer is the card as it is now.
	Update(ctx context.Context, m Method, e Edit) (Method, error)
	// Forget removes a card from the vault.
	Forget(ctx context.Context, token string) error
}

var (
	// ErrExpired: the card's expiry month is over.
	ErrExpired = errors.New("the card has expired")
	// ErrDeclined: the issuer refused the card.
	ErrDeclined = errors.New("the card was declined")
	// ErrUnknownToken: the provider holds no card with that token.
	ErrUnknownToken = errors.New("the provider knows no such card")
)

// Invalid names the fields of a card the provider refused, each with why
// (never with the value).
type Invalid struct {
	Fields map[string]string
}

func (e *Invalid) Error() string { return "invalid card" }
