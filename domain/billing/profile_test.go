package billing_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/domain/event"
)

var (
	profileID = uuid.MustParse("0190a4c2-0000-7000-8000-0000000000d1")
	accountID = uuid.MustParse("0190a4c2-0000-7000-8000-0000000000d2")
	visa      = billing.Card{Token: "tok_1", Brand: "visa", Last4: "4242", ExpiryMonth: 12, ExpiryYear: 2028}
)

func given(events ...event.Event) *billing.Profile {
	var p billing.Profile
	for _, e := range events {
		p.Apply(e)
	}
	return &p
}

func created(t *testing.T) billing.ProfileCreated {
	t.Helper()
	e, err := billing.CreateProfile(profileID, accountID, "  Contoso HQ ", "admin")
	if err != nil || e.Name != "Contoso HQ" {
		t.Fatalf("%+v %v", e, err)
	}
	return e
}

func TestProfile_keeps_cards_as_the_provider_answered_them(t *testing.T) {
	if _, err := billing.CreateProfile(profileID, accountID, "\x00", "admin"); err == nil {
		t.Fatal("a name with control characters")
	}
	p := given(created(t))
	if _, err := p.AddPaymentMethod(uuid.New(), billing.Card{Token: "tok", Brand: "visa", Last4: "42", ExpiryMonth: 13, ExpiryYear: 2028}, "admin"); err == nil {
		t.Fatal("a card of two digits and month 13")
	}
	first := uuid.New()
	added, err := p.AddPaymentMethod(first, visa, "admin")
	if err != nil {
		t.Fatal(err)
	}
	p = given(created(t), added)
	renewed := visa
	renewed.ExpiryYear = 2031
	if _, err := p.UpdatePaymentMethod(first, renewed, nil, "admin"); err == nil {
		t.Fatal("an edit that changes nothing")
	}
	other := renewed
	other.Last4 = "1111"
	var rule *domain.RuleError
	if _, err := p.UpdatePaymentMethod(first, other, []string{"expiry"}, "admin"); !errors.As(err, &rule) || rule.Code != "another-card" {
		t.Fatalf("an edit to another card: %v", err)
	}
	updated, err := p.UpdatePaymentMethod(first, renewed, []string{"securityCode", "expiry"}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	second := uuid.New()
	mc := billing.Card{Token: "tok_2", Brand: "mastercard", Last4: "4444", ExpiryMonth: 1, ExpiryYear: 2030}
	replaced, err := given(created(t), added, updated).ReplacePaymentMethod(first, second, mc, "admin")
	if err != nil {
		t.Fatal(err)
	}
	p = given(created(t), added, updated, replaced)
	if _, ok := p.Method(first); ok {
		t.Fatal("the replaced card stays")
	}
	if c, ok := p.Method(second); !ok || c != mc {
		t.Fatalf("the replacement %+v", c)
	}
	if _, err := p.RemovePaymentMethod(first, "admin"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("removing a replaced card: %v", err)
	}
	events := []event.Event{created(t)}
	for range billing.MaxPaymentMethods {
		e, err := given(events...).AddPaymentMethod(uuid.New(), visa, "admin")
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	if _, err := given(events...).AddPaymentMethod(uuid.New(), visa, "admin"); !errors.As(err, &rule) || rule.Code != "too-many-payment-methods" {
		t.Fatalf("an eleventh card: %v", err)
	}
}
