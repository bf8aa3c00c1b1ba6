package commands_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/payment"
)

// billed is Ann, an Account Administrator who may bill, with a billing
// profile holding one card, and the provider that holds it.
type billed struct {
	ann      commands.Actor
	demote   func() error
	provider *payment.Local
	profile  uuid.UUID
	card     uuid.UUID
}

func (f *fixture) billed(t *testing.T) billed {
	t.Helper()
	b := billed{provider: payment.NewLocal(f.clock)}
	b.ann, b.demote = f.ann(t)
	ctx := context.Background()
	profile, err := commands.CreateBillingProfileHandler(f.deps).Handle(ctx, commands.CreateBillingProfile{By: b.ann, AccountID: f.account, Name: "Main"})
	if err != nil {
		t.Fatal(err)
	}
	b.profile = profile.ProfileID
	added, err := commands.AddPaymentMethodHandler(f.deps, b.provider).Handle(ctx, commands.AddPaymentMethod{By: b.ann, AccountID: f.account,
		ProfileID: b.profile, Card: card("4242 4242 4242 4242")})
	if err != nil {
		t.Fatal(err)
	}
	b.card = added.PaymentMethodID
	return b
}

func card(number string) payment.Card {
	return payment.Card{Number: number, SecurityCode: "123", ExpiryMonth: 5, ExpiryYear: 2028, NameOnCard: "Nora Wind",
		Address: payment.Address{Line1: "1 Main St", City: "Seattle", PostalCode: "98101", Country: "US"}}
}

// bought is a subscription Ann bought for the account.
func (f *fixture) bought(t *testing.T, ann commands.Actor) uuid.UUID {
	t.Helper()
	res, err := commands.PurchaseSubscriptionHandler(f.deps).Handle(context.Background(), purchase(f, ann))
	if err != nil {
		t.Fatal(err)
	}
	return res.SubscriptionID
}

func purchase(f *fixture, by commands.Actor) commands.PurchaseSubscription {
	return commands.PurchaseSubscription{By: by, AccountID: f.account, Order: subscription.Order{ProductID: "office-e3", ProductName: "Office E3",
		Name: "team", ExpiresAt: f.clock.Now().Add(365 * 24 * time.Hour), Price: subscription.Price{Amount: "10", Currency: "USD"}, TotalLicenses: 5}}
}

func TestIdempotencyKey_a_billing_command_run_again_after_the_caller_lost_the_right_answers_as_before(t *testing.T) {
	testLostRight(t, []lostRight{
		{"create a billing profile", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			ann, demote := f.ann(t)
			return func(ctx context.Context) (any, error) {
				return commands.CreateBillingProfileHandler(f.deps).Handle(ctx, commands.CreateBillingProfile{By: ann, AccountID: f.account, Name: "Main"})
			}, demote
		}},
		{"add a card", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			b := f.billed(t)
			return func(ctx context.Context) (any, error) {
				return commands.AddPaymentMethodHandler(f.deps, b.provider).Handle(ctx, commands.AddPaymentMethod{By: b.ann, AccountID: f.account,
					ProfileID: b.profile, Card: card("5555 5555 5555 4444")})
			}, b.demote
		}},
		{"replace a card", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			b := f.billed(t)
			return func(ctx context.Context) (any, error) {
				return commands.ReplacePaymentMethodHandler(f.deps, b.provider).Handle(ctx, commands.ReplacePaymentMethod{By: b.ann, AccountID: f.account,
					ProfileID: b.profile, PaymentMethodID: b.card, Card: card("5555 5555 5555 4444")})
			}, b.demote
		}},
		{"edit a card", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			b := f.billed(t)
			code := "456"
			return func(ctx context.Context) (any, error) {
				return commands.EditPaymentMethodHandler(f.deps, b.provider).Handle(ctx, commands.EditPaymentMethod{By: b.ann, AccountID: f.account,
					ProfileID: b.profile, PaymentMethodID: b.card, Edit: payment.Edit{SecurityCode: &code}})
			}, b.demote
		}},
		{"remove a card", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			b := f.billed(t)
			return func(ctx context.Context) (any, error) {
				return commands.RemovePaymentMethodHandler(f.deps, b.provider).Handle(ctx, commands.RemovePaymentMethod{By: b.ann, AccountID: f.account,
					ProfileID: b.profile, PaymentMethodID: b.card})
			}, b.demote
		}},
		{"buy a subscription", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			ann, demote := f.ann(t)
			return func(ctx context.Context) (any, error) {
				return commands.PurchaseSubscriptionHandler(f.deps).Handle(ctx, purchase(f, ann))
			}, demote
		}},
		{"set a subscription's total", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			ann, demote := f.ann(t)
			sub := f.bought(t, ann)
			return func(ctx context.Context) (any, error) {
				return commands.SetLicenseTotalHandler(f.deps).Handle(ctx, commands.SetLicenseTotal{By: ann, AccountID: f.account, SubscriptionID: sub, Total: 9})
			}, demote
		}},
		{"cancel a subscription", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			ann, demote := f.ann(t)
			sub := f.bought(t, ann)
			return func(ctx context.Context) (any, error) {
				return commands.CancelSubscriptionHandler(f.deps, commands.Licensing{}).Handle(ctx, commands.CancelSubscription{By: ann, AccountID: f.account, SubscriptionID: sub,
					Reason: "no_longer_needed"})
			}, demote
		}},
	})
}
