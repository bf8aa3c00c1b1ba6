package billing

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

// MaxPaymentMethods bounds the cards of one profile.
const MaxPaymentMethods = 10

// Brands are the card brands a payment method may have.
var Brands = []string{"visa", "mastercard", "amex", "discover", "jcb", "diners", "unionpay"}

// Edits are what editing a card may change, as PaymentMethodUpdated names them.
var Edits = []string{"securityCode", "expiry", "nameOnCard", "address"}

type method struct {
	id   uuid.UUID
	card Card
}

// Profile is the write model of one billing profile.
type Profile struct {
	id        uuid.UUID
	accountID uuid.UUID
	methods   []method
}

// Apply folds one event into the state.
func (p *Profile) Apply(e event.Event) {
	switch e := e.(type) {
	case ProfileCreated:
		p.id, p.accountID = e.ProfileID, e.AccountID
	case PaymentMethodAdded:
		p.methods = append(p.methods, method{e.PaymentMethodID, e.Card})
	case PaymentMethodUpdated:
		if i := p.index(e.PaymentMethodID); i >= 0 {
			p.methods[i].card = e.Card
		}
	case PaymentMethodReplaced:
		if i := p.index(e.ReplacedPaymentMethodID); i >= 0 {
			p.methods[i] = method{e.PaymentMethodID, e.Card}
		}
	case PaymentMethodRemoved:
		if i := p.index(e.PaymentMethodID); i >= 0 {
			p.methods = slices.Delete(p.methods, i, i+1)
		}
	}
}

func (p *Profile) index(id uuid.UUID) int {
	return slices.IndexFunc(p.methods, func(m method) bool { return m.id == id })
}

// Exists reports whether the profile was created.
func (p *Profile) Exists() bool { return p.id != uuid.Nil }

// AccountID is the account the profile bills.
func (p *Profile) AccountID() uuid.UUID { return p.accountID }

// Method is a payment method of the profile (ok false: none with that id).
func (p *Profile) Method(id uuid.UUID) (Card, bool) {
	if i := p.index(id); i >= 0 {
		return p.methods[i].card, true
	}
	return Card{}, false
}

// HoldsToken reports whether one of the profile's cards is the
// provider's card token.
func (p *Profile) HoldsToken(token string) bool {
	return slices.ContainsFunc(p.methods, func(m method) bool { return m.card.Token == token })
}

// CreateProfile validates a new billing profile of an account.
func CreateProfile(id, accountID uuid.UUID, name, by string) (ProfileCreated, error) {
	name, why := user.CheckName(name)
	if why != "" {
		return ProfileCreated{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "name", Reason: why}}}
	}
	return ProfileCreated{ProfileID: id, AccountID: accountID, Name: name, CreatedBy: by}, nil
}

// AddPaymentMethod adds a card the provider tokenized.
func (p *Profile) AddPaymentMethod(id uuid.UUID, c Card, by string) (PaymentMethodAdded, error) {
	if err := checkCard(c); err != nil {
		return PaymentMethodAdded{}, err
	}
	if len(p.methods) >= MaxPaymentMethods {
		return PaymentMethodAdded{}, &domain.RuleError{Code: "too-many-payment-methods",
			Detail: fmt.Sprintf("a billing profile holds at most %d payment methods; replace or remove one", MaxPaymentMethods)}
	}
	return PaymentMethodAdded{ProfileID: p.id, AccountID: p.accountID, PaymentMethodID: id, Card: c, AddedBy: by}, nil
}

// UpdatePaymentMethod records an edit of a card at the provider: the same
// card (token, brand and last four digits), maybe a new expiry.
func (p *Profile) UpdatePaymentMethod(id uuid.UUID, c Card, changed []string, by string) (PaymentMethodUpdated, error) {
	old, ok := p.Method(id)
	if !ok {
		return PaymentMethodUpdated{}, fmt.Errorf("payment method %s: %w", id, domain.ErrNotFound)
	}
	if err := checkCard(c); err != nil {
		return PaymentMethodUpdated{}, err
	}
	if c.Brand != old.Brand || c.Last4 != old.Last4 {
		return PaymentMethodUpdated{}, &domain.RuleError{Code: "another-card", Detail: "an edit keeps the card; replace the payment method for another card"}
	}
	if len(changed) == 0 || slices.ContainsFunc(changed, func(s string) bool { return !slices.Contains(Edits, s) }) {
		return PaymentMethodUpdated{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "body", Reason: "change at least one of securityCode, expiryMonth and expiryYear, nameOnCard, address"}}}
	}
	return PaymentMethodUpdated{ProfileID: p.id, AccountID: p.accountID, PaymentMethodID: id, Card: c, Changed: changed, UpdatedBy: by}, nil
}

// ReplacePaymentMethod puts another tokenized card in the place of one.
func (p *Profile) ReplacePaymentMethod(oldID, newID uuid.UUID, c Card, by string) (PaymentMethodReplaced, error) {
	if _, ok := p.Method(oldID); !ok {
		return PaymentMethodReplaced{}, fmt.Errorf("payment method %s: %w", oldID, domain.ErrNotFound)
	}
	if err := checkCard(c); err != nil {
		return PaymentMethodReplaced{}, err
	}
	return PaymentMethodReplaced{ProfileID: p.id, AccountID: p.accountID, ReplacedPaymentMethodID: oldID, PaymentMethodID: newID, Card: c, ReplacedBy: by}, nil
}

// RemovePaymentMethod removes a card from the profile.
func (p *Profile) RemovePaymentMethod(id uuid.UUID, by string) (PaymentMethodRemoved, error) {
	if _, ok := p.Method(id); !ok {
		return PaymentMethodRemoved{}, fmt.Errorf("payment method %s: %w", id, domain.ErrNotFound)
	}
	return PaymentMethodRemoved{ProfileID: p.id, AccountID: p.accountID, PaymentMethodID: id, RemovedBy: by}, nil
}

var last4 = regexp.MustCompile(`^[0-9]{4}$`)

// checkCard checks what a provider answered: a card as kept here holds
// a token, a known brand, four digits and an expiry, and nothing more.
func checkCard(c Card) error {
	var verr domain.ValidationError
	if c.Token == "" || len(c.Token) > 200 {
		verr.Add("token", "the provider gave no token")
	}
	if !slices.Contains(Brands, c.Brand) {
		verr.Add("brand", "not a card brand we accept")
	}
	if !last4.MatchString(c.Last4) {
		verr.Add("last4", "four digits")
	}
	if c.ExpiryMonth < 1 || c.ExpiryMonth > 12 {
		verr.Add("expiryMonth", "from 1 to 12")
	}
	if c.ExpiryYear < 2000 || c.ExpiryYear > 2199 {
		verr.Add("expiryYear", "a four-digit year")
	}
	return verr.Err()
}
