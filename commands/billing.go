package commands

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/payment"
)

// CreateBillingProfile gives an account a new billing profile. Billing
// profiles are managed by the account's Account Administrators and Account
// Managers (who buy), and operators.
type CreateBillingProfile struct {
	By        Actor
	AccountID uuid.UUID
	Name      string
}

// BillingProfileCreated is the answer.
type BillingProfileCreated struct {
	ProfileID uuid.UUID
	Position  eventstore.Position
}

// CreateBillingProfileHandler handles CreateBillingProfile. Run again
// with its idempotency key, it answers as an earlier run that created the
// profile did, before it checks the caller's rights.
func CreateBillingProfileHandler(d Deps) Handler[CreateBillingProfile, BillingProfileCreated] {
	return HandlerFunc[CreateBillingProfile, BillingProfileCreated](func(ctx context.Context, c CreateBillingProfile) (BillingProfileCreated, error) {
		by := origin{actor: c.By.name(), at: d.now()}
		id := d.newID(ctx, "billing-profile")
		pos, done, err := d.earlierAnswer(ctx, billing.Stream(id))
		if err != nil {
			return BillingProfileCreated{}, err
		}
		if done {
			return BillingProfileCreated{ProfileID: id, Position: pos}, nil
		}
		if err := d.mayBill(ctx, c.AccountID, c.By); err != nil {
			return BillingProfileCreated{}, err
		}
		created, err := billing.CreateProfile(id, c.AccountID, c.Name, by.actor)
		if err != nil {
			return BillingProfileCreated{}, err
		}
		res, err := save(ctx, d, billing.Stream(id), noStream, by, created)
		if err != nil {
			return BillingProfileCreated{}, err
		}
		return BillingProfileCreated{ProfileID: id, Position: res.Position}, nil
	})
}

// mayBill checks that the actor manages the account's billing: an active
// Account Administrator or Account Manager of it, or an operator (of an
// account that exists).
func (d Deps) mayBill(ctx context.Context, accountID uuid.UUID, a Actor) error {
	if a.Operator {
		return d.accountExists(ctx, accountID)
	}
	held, err := d.rolesIn(ctx, accountID, a)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(held, func(r user.Role) bool { return r == user.AccountAdministrator || r == user.AccountManager }) {
		return fmt.Errorf("billing profiles are managed by Account Administrators and Account Managers: %w", domain.ErrForbidden)
	}
	return nil
}

// loadProfile loads a billing profile of the account the actor may bill,
// taking first's read of it (see loadKept), when there is one.
func (d Deps) loadProfile(ctx context.Context, a Actor, accountID, id uuid.UUID, first *kept[billing.Profile]) (*billing.Profile, loaded, error) {
	if err := d.mayBill(ctx, accountID, a); err != nil {
		return nil, loaded{}, err
	}
	p, l, err := loadKept(ctx, d, first, billing.Stream(id))
	if err != nil {
		return nil, l, err
	}
	if !p.Exists() || p.AccountID() != accountID {
		return nil, l, fmt.Errorf("billing profile %s: %w", id, domain.ErrNotFound)
	}
	return p, l, nil
}

// cardOf is what bizcenter keeps of a provider's answer.
func cardOf(m payment.Method) billing.Card {
	return billing.Card{Token: m.Token, Brand: m.Brand, Last4: m.Last4, ExpiryMonth: m.ExpiryMonth, ExpiryYear: m.ExpiryYear}
}

// paymentError turns the provider's refusals into domain errors: a bad
// field is invalid input, an expired or declined card a refused rule.
func paymentError(err error) error {
	var invalid *payment.Invalid
	switch {
	case errors.As(err, &invalid):
		var verr domain.ValidationError
		for _, f := range slices.Sorted(maps.Keys(invalid.Fields)) {
			verr.Add(f, invalid.Fields[f])
		}
		return &verr
	case errors.Is(err, payment.ErrExpired):
		return &domain.RuleError{Code: "card-expired", Detail: "the card's expiry month is over"}
	case errors.Is(err, payment.ErrDeclined):
		return &domain.RuleError{Code: "card-declined", Detail: "the card issuer declined the card; use another card"}
	case errors.Is(err, payment.ErrUnknownToken):
		return &domain.RuleError{Code: "card-unknown-to-provider", Detail: "the payment provider no longer holds this card; replace it"}
	}
	return fmt.Errorf("payment provider: %w", err)
}
