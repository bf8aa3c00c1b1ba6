package commands

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/payment"
)

// The card commands hand the card to the payment provider first and
// append only its answer; the number and the security code go nowhere
// else. A card the provider vaulted for a command that then fails is
// forgotten again, unless its save landed after all (forgetUnsaved), and
// so is a card once it is replaced or removed.

// AddPaymentMethod adds a card to a billing profile.
type AddPaymentMethod struct {
	By                   Actor
	AccountID, ProfileID uuid.UUID
	Card                 payment.Card
}

// ReplacePaymentMethod puts another card in the place of one.
type ReplacePaymentMethod struct {
	By                                    Actor
	AccountID, ProfileID, PaymentMethodID uuid.UUID
	Card                                  payment.Card
}

// EditPaymentMethod edits a card: security code, expiry, name, address.
type EditPaymentMethod struct {
	By                                    Actor
	AccountID, ProfileID, PaymentMethodID uuid.UUID
	Edit                                  payment.Edit
}

// RemovePaymentMethod removes a card from a billing profile.
type RemovePaymentMethod struct {
	By                                    Actor
	AccountID, ProfileID, PaymentMethodID uuid.UUID
}

// PaymentMethodSaved is the answer of the card commands: the card as kept.
type PaymentMethodSaved struct {
	PaymentMethodID uuid.UUID
	Card            billing.Card
	Position        eventstore.Position
}

// AddPaymentMethodHandler handles AddPaymentMethod.
func AddPaymentMethodHandler(d Deps, provider payment.Provider) Handler[AddPaymentMethod, PaymentMethodSaved] {
	return HandlerFunc[AddPaymentMethod, PaymentMethodSaved](func(ctx context.Context, c AddPaymentMethod) (PaymentMethodSaved, error) {
		id := d.newID(ctx, "payment-method")
		return d.withNewCard(ctx, c.By, c.AccountID, c.ProfileID, provider, c.Card, func(p *billing.Profile, card billing.Card, by string) (event.Event, error) {
			return p.AddPaymentMethod(id, card, by)
		})
	})
}

// ReplacePaymentMethodHandler handles ReplacePaymentMethod.
func ReplacePaymentMethodHandler(d Deps, provider payment.Provider) Handler[ReplacePaymentMethod, PaymentMethodSaved] {
	return HandlerFunc[ReplacePaymentMethod, PaymentMethodSaved](func(ctx context.Context, c ReplacePaymentMethod) (PaymentMethodSaved, error) {
		id := d.newID(ctx, "payment-method")
		var gone string
		saved, err := d.withNewCard(ctx, c.By, c.AccountID, c.ProfileID, provider, c.Card, func(p *billing.Profile, card billing.Card, by string) (event.Event, error) {
			old, _ := p.Method(c.PaymentMethodID)
			gone = old.Token
			return p.ReplacePaymentMethod(c.PaymentMethodID, id, card, by)
		})
		if err == nil {
			forget(ctx, provider, gone)
		}
		return saved, err
	})
}

// forget has the provider drop a card the profile no longer pays with
// (none: "", as for a run again that found its earlier answer). The
// change is recorded by then and stands: a provider that does not answer
// keeps the card, as it would have without this call.
func forget(ctx context.Context, provider payment.Provider, token string) {
	if token != "" {
		_ = provider.Forget(context.WithoutCancel(ctx), token)
	}
}

// withNewCard checks the actor and the profile, has the provider vault
// the card, and appends what decide makes of it. Run again with its
// idempotency key, it answers as an earlier run that saved the card did,
// before it checks the caller's rights.
func (d Deps) withNewCard(ctx context.Context, a Actor, accountID, profileID uuid.UUID, provider payment.Provider, in payment.Card,
	decide func(*billing.Profile, billing.Card, string) (event.Event, error)) (PaymentMethodSaved, error) {
	by := origin{actor: a.name(), at: d.now()}
	first, err := keep[billing.Profile](ctx, d, billing.Stream(profileID))
	if err != nil {
		return PaymentMethodSaved{}, err
	}
	if saved, ok := savedCard(first.read()); ok {
		return saved, nil
	}
	if _, _, err := d.loadProfile(ctx, a, accountID, profileID, first); err != nil {
		return PaymentMethodSaved{}, err
	}
	m, err := provider.Tokenize(ctx, in)
	if err != nil {
		return PaymentMethodSaved{}, paymentError(err)
	}
	saved, err := retried(ctx, func() (PaymentMethodSaved, error) {
		// Decided on a read after the provider's answer, which may have
		// been long in coming, not on the look before it.
		p, l, err := d.loadProfile(ctx, a, accountID, profileID, nil)
		if err != nil {
			return PaymentMethodSaved{}, err
		}
		e, err := decide(p, cardOf(m), by.actor)
		if err != nil {
			return PaymentMethodSaved{}, err
		}
		res, err := save(ctx, d, billing.Stream(profileID), l, by, e)
		saved, _ := cardAnswer(e, res.Position)
		return saved, err
	})
	if err != nil {
		d.forgetUnsaved(ctx, provider, profileID, m.Token)
	}
	return saved, err
}

// forgetUnsaved has the provider forget a card it vaulted for a save that
// failed, unless the profile holds the card after all: a save whose
// answer was lost (the connection cut at its commit) may have landed,
// and the card was forgotten under a payment method that then could never
// be edited or charged. It looks on a context that outlives the
// request's, as forget does: for a client gone, the look and the Forget
// were both refused, and a full card stayed vaulted that nothing refers
// to. When the look fails, the card is kept: an orphan in the vault is
// the lesser harm.
func (d Deps) forgetUnsaved(ctx context.Context, provider payment.Provider, profileID uuid.UUID, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), forgetWithin)
	defer cancel()
	var p billing.Profile
	if _, err := load(ctx, d, billing.Stream(profileID), &p); err != nil || p.HoldsToken(token) {
		return
	}
	forget(ctx, provider, token)
}

// forgetWithin bounds the look and the Forget after a failed save.
const forgetWithin = 10 * time.Second

// savedCard is the answer of an earlier run that added or replaced a card.
func savedCard(l loaded) (PaymentMethodSaved, bool) {
	if l.mine == nil {
		return PaymentMethodSaved{}, false
	}
	for _, e := range slices.Backward(l.mine.events) {
		if saved, ok := cardAnswer(e, l.answered()); ok {
			return saved, true
		}
	}
	return PaymentMethodSaved{}, false
}

// cardAnswer answers with the card an event added or replaced.
func cardAnswer(e event.Event, pos eventstore.Position) (PaymentMethodSaved, bool) {
	switch e := e.(type) {
	case billing.PaymentMethodAdded:
		return PaymentMethodSaved{PaymentMethodID: e.PaymentMethodID, Card: e.Card, Position: pos}, true
	case billing.PaymentMethodReplaced:
		return PaymentMethodSaved{PaymentMethodID: e.PaymentMethodID, Card: e.Card, Position: pos}, true
	}
	return PaymentMethodSaved{}, false
}

// EditPaymentMethodHandler handles EditPaymentMethod. Run again with its
// idempotency key, it answers as an earlier run that edited the card did,
// before it checks the caller's rights.
func EditPaymentMethodHandler(d Deps, provider payment.Provider) Handler[EditPaymentMethod, PaymentMethodSaved] {
	return HandlerFunc[EditPaymentMethod, PaymentMethodSaved](func(ctx context.Context, c EditPaymentMethod) (PaymentMethodSaved, error) {
		by := origin{actor: c.By.name(), at: d.now()}
		first, err := keep[billing.Profile](ctx, d, billing.Stream(c.ProfileID))
		if err != nil {
			return PaymentMethodSaved{}, err
		}
		l := first.read()
		if e, ok := mine[billing.PaymentMethodUpdated](l); ok {
			return PaymentMethodSaved{PaymentMethodID: e.PaymentMethodID, Card: e.Card, Position: l.answered()}, nil
		}
		p, _, err := d.loadProfile(ctx, c.By, c.AccountID, c.ProfileID, first)
		if err != nil {
			return PaymentMethodSaved{}, err
		}
		old, ok := p.Method(c.PaymentMethodID)
		if !ok {
			return PaymentMethodSaved{}, fmt.Errorf("payment method %s: %w", c.PaymentMethodID, domain.ErrNotFound)
		}
		changed := edits(c.Edit)
		if len(changed) == 0 {
			return PaymentMethodSaved{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "body",
				Reason: "change at least one of securityCode, expiryMonth and expiryYear, nameOnCard, address"}}}
		}
		m, err := provider.Update(ctx, methodOf(old), c.Edit)
		if err != nil {
			return PaymentMethodSaved{}, paymentError(err)
		}
		return retried(ctx, func() (PaymentMethodSaved, error) {
			// A read after the provider's answer, as in withNewCard.
			p, l, err := d.loadProfile(ctx, c.By, c.AccountID, c.ProfileID, nil)
			if err != nil {
				return PaymentMethodSaved{}, err
			}
			if now, ok := p.Method(c.PaymentMethodID); ok && now != old {
				// Another edit was recorded since the provider answered
				// for old: that answer would put old's expiry back over
				// it. The provider answers again for the card as it is.
				if m, err = provider.Update(ctx, methodOf(now), c.Edit); err != nil {
					return PaymentMethodSaved{}, paymentError(err)
				}
				old = now
			}
			e, err := p.UpdatePaymentMethod(c.PaymentMethodID, cardOf(m), changed, by.actor)
			if err != nil {
				return PaymentMethodSaved{}, err
			}
			res, err := save(ctx, d, billing.Stream(c.ProfileID), l, by, e)
			return PaymentMethodSaved{PaymentMethodID: c.PaymentMethodID, Card: e.Card, Position: res.Position}, err
		})
	})
}

// methodOf is a card kept, as the provider knows it.
func methodOf(c billing.Card) payment.Method {
	return payment.Method{Token: c.Token, Brand: c.Brand, Last4: c.Last4, ExpiryMonth: c.ExpiryMonth, ExpiryYear: c.ExpiryYear}
}

// edits names what an edit changes, as billing.Edits does.
func edits(e payment.Edit) []string {
	var out []string
	if e.SecurityCode != nil {
		out = append(out, "securityCode")
	}
	if e.ExpiryMonth != nil || e.ExpiryYear != nil {
		out = append(out, "expiry")
	}
	if e.NameOnCard != nil {
		out = append(out, "nameOnCard")
	}
	if e.Address != nil {
		out = append(out, "address")
	}
	return out
}

// RemovePaymentMethodHandler handles RemovePaymentMethod. Run again with
// its idempotency key, it answers as an earlier run that removed the card
// did, before it checks the caller's rights.
func RemovePaymentMethodHandler(d Deps, provider payment.Provider) Handler[RemovePaymentMethod, eventstore.Position] {
	return HandlerFunc[RemovePaymentMethod, eventstore.Position](func(ctx context.Context, c RemovePaymentMethod) (eventstore.Position, error) {
		first, err := keep[billing.Profile](ctx, d, billing.Stream(c.ProfileID))
		if err != nil {
			return eventstore.Position{}, err
		}
		if l := first.read(); l.mine != nil {
			return l.answered(), nil
		}
		by := origin{actor: c.By.name(), at: d.now()}
		var gone string
		pos, err := retried(ctx, func() (eventstore.Position, error) {
			p, l, err := d.loadProfile(ctx, c.By, c.AccountID, c.ProfileID, first)
			if err != nil {
				return eventstore.Position{}, err
			}
			e, err := p.RemovePaymentMethod(c.PaymentMethodID, by.actor)
			if err != nil {
				return eventstore.Position{}, err
			}
			old, _ := p.Method(c.PaymentMethodID)
			gone = old.Token
			res, err := save(ctx, d, billing.Stream(c.ProfileID), l, by, e)
			return res.Position, err
		})
		if err == nil {
			forget(ctx, provider, gone)
		}
		return pos, err
	})
}
