package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/payment"
)

// Two edits of one card race: a new security code, and a new expiry
// recorded between the provider's answer to the first and its append.
// The card kept is the card the provider holds, with the new expiry: the
// first edit's answer, given for the card before the second, used to be
// recorded as it was, putting the old expiry back.
func TestEditPaymentMethod_beside_another_edit_keeps_its_expiry(t *testing.T) {
	f := newFixture(t)
	provider := payment.NewLocal(f.clock)
	ctx := context.Background()
	profile, err := commands.CreateBillingProfileHandler(f.deps).Handle(ctx, commands.CreateBillingProfile{By: f.admin, AccountID: f.account, Name: "Main"})
	if err != nil {
		t.Fatal(err)
	}
	added, err := commands.AddPaymentMethodHandler(f.deps, provider).Handle(ctx, commands.AddPaymentMethod{By: f.admin, AccountID: f.account, ProfileID: profile.ProfileID,
		Card: payment.Card{Number: "4242 4242 4242 4242", SecurityCode: "123", ExpiryMonth: 5, ExpiryYear: 2028, NameOnCard: "Nora Wind",
			Address: payment.Address{Line1: "1 Main St", City: "Seattle", PostalCode: "98101", Country: "US"}}})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(deps commands.Deps, e payment.Edit) (commands.PaymentMethodSaved, error) {
		return commands.EditPaymentMethodHandler(deps, provider).Handle(ctx, commands.EditPaymentMethod{By: f.admin, AccountID: f.account,
			ProfileID: profile.ProfileID, PaymentMethodID: added.PaymentMethodID, Edit: e})
	}
	month, year, code := 9, 2031, "456"
	first := f.beforeAppendTo(billing.Stream(profile.ProfileID), func() {
		if _, err := edit(f.deps, payment.Edit{ExpiryMonth: &month, ExpiryYear: &year}); err != nil {
			t.Errorf("the edit of the expiry: %v", err)
		}
	})
	saved, err := edit(first, payment.Edit{SecurityCode: &code})
	if err != nil {
		t.Fatal(err)
	}
	if saved.Card.ExpiryMonth != month || saved.Card.ExpiryYear != year {
		t.Fatalf("the card kept expires %d/%d, the provider's %d/%d: the edit of the security code undid the edit of the expiry recorded before it",
			saved.Card.ExpiryMonth, saved.Card.ExpiryYear, month, year)
	}
}

// A card removed from a profile, or replaced by another, is forgotten by
// the payment provider too: the person took it off file. It used to stay
// vaulted for good, its token (kept in the events) still good for an
// edit, and for a charge at a real provider.
func TestPaymentMethod_removed_or_replaced_is_forgotten_by_the_provider(t *testing.T) {
	f := newFixture(t)
	b := f.billed(t)
	ctx := context.Background()
	vaulted := func(token string) bool {
		t.Helper()
		name := "Nora Wind"
		_, err := b.provider.Update(ctx, payment.Method{Token: token}, payment.Edit{NameOnCard: &name})
		if err != nil && !errors.Is(err, payment.ErrUnknownToken) {
			t.Fatal(err)
		}
		return err == nil
	}
	first, err := commands.AddPaymentMethodHandler(f.deps, b.provider).Handle(ctx, commands.AddPaymentMethod{By: b.ann, AccountID: f.account,
		ProfileID: b.profile, Card: card("4000 0566 5566 5556")})
	if err != nil {
		t.Fatal(err)
	}
	replaced, err := commands.ReplacePaymentMethodHandler(f.deps, b.provider).Handle(ctx, commands.ReplacePaymentMethod{By: b.ann, AccountID: f.account,
		ProfileID: b.profile, PaymentMethodID: first.PaymentMethodID, Card: card("5555 5555 5555 4444")})
	if err != nil {
		t.Fatal(err)
	}
	if vaulted(first.Card.Token) {
		t.Error("the replaced card is still vaulted at the provider")
	}
	if !vaulted(replaced.Card.Token) {
		t.Fatal("the card that took its place is not vaulted")
	}
	if _, err := commands.RemovePaymentMethodHandler(f.deps, b.provider).Handle(ctx, commands.RemovePaymentMethod{By: b.ann, AccountID: f.account,
		ProfileID: b.profile, PaymentMethodID: replaced.PaymentMethodID}); err != nil {
		t.Fatal(err)
	}
	if vaulted(replaced.Card.Token) {
		t.Error("the removed card is still vaulted at the provider")
	}
}

// tokens is a provider that notes the tokens it vaults, and refuses to
// forget once its caller's context is done, as a real provider's client
// would.
type tokens struct {
	*payment.Local
	mu     sync.Mutex
	issued []string
}

func (p *tokens) Tokenize(ctx context.Context, c payment.Card) (payment.Method, error) {
	m, err := p.Local.Tokenize(ctx, c)
	p.mu.Lock()
	p.issued = append(p.issued, m.Token)
	p.mu.Unlock()
	return m, err
}

func (p *tokens) Forget(ctx context.Context, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.Local.Forget(ctx, token)
}

func (p *tokens) last() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued[len(p.issued)-1]
}

// gone is a store whose appends find their request ended (the client
// gave up) and write nothing.
type gone struct {
	eventstore.Store
	cancel context.CancelFunc
}

func (g gone) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	g.cancel()
	return eventstore.AppendResult{}, ctx.Err()
}

// A card vaulted for a save that failed is forgotten only if the save
// wrote nothing: one whose answer was lost had landed, and the card was
// forgotten under the payment method it became, never to be edited or
// charged. And it is forgotten also when the client went meanwhile:
// asked on the request's ended context, a provider refused, and a full
// card stayed vaulted that nothing refers to.
func TestAddPaymentMethod_that_fails_forgets_the_card_only_if_nothing_holds_it(t *testing.T) {
	f := newFixture(t)
	b := f.billed(t)
	provider := &tokens{Local: b.provider}
	vaulted := func(token string) bool {
		t.Helper()
		name := "Nora Wind"
		_, err := provider.Update(context.Background(), payment.Method{Token: token}, payment.Edit{NameOnCard: &name})
		if err != nil && !errors.Is(err, payment.ErrUnknownToken) {
			t.Fatal(err)
		}
		return err == nil
	}
	add := func(ctx context.Context, d commands.Deps) error {
		_, err := commands.AddPaymentMethodHandler(d, provider).Handle(ctx, commands.AddPaymentMethod{By: b.ann, AccountID: f.account,
			ProfileID: b.profile, Card: card("5555 5555 5555 4444")})
		return err
	}

	lost := f.deps
	lost.Store = &lossy{Store: f.deps.Store, n: 1}
	if err := add(context.Background(), lost); !errors.Is(err, errLost) {
		t.Fatalf("the add whose answer was lost: %v", err)
	}
	if !vaulted(provider.last()) {
		t.Error("the card of an add that landed, its answer lost, was forgotten by the provider")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	left := f.deps
	left.Store = gone{Store: f.deps.Store, cancel: cancel}
	if err := add(ctx, left); err == nil {
		t.Fatal("an add whose client went before its append succeeded")
	}
	if vaulted(provider.last()) {
		t.Error("the card of an add that wrote nothing, its client gone, is still vaulted")
	}
}
