package payment_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/payment"
)

var ctx = context.Background()

func card(number, code string, month, year int) payment.Card {
	return payment.Card{Number: number, SecurityCode: code, ExpiryMonth: month, ExpiryYear: year, NameOnCard: "Nora Wind",
		Address: payment.Address{Line1: "1 Main St", City: "Seattle", PostalCode: "98101", Country: "US"}}
}

func TestLocal_tokenizes_a_valid_card_keeping_only_brand_last_four_and_expiry(t *testing.T) {
	p := payment.NewLocal(clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)))
	for number, brand := range map[string]string{
		"4242 4242 4242 4242": "visa", "5555-5555-5555-4444": "mastercard", "378282246310005": "amex",
		"6011111111111117": "discover", "3530111333300000": "jcb", "2223003122003222": "mastercard",
	} {
		code := "123"
		if brand == "amex" {
			code = "1234"
		}
		m, err := p.Tokenize(ctx, card(number, code, 12, 2027))
		digits := strings.NewReplacer(" ", "", "-", "").Replace(number)
		if err != nil || m.Brand != brand || m.Last4 != digits[len(digits)-4:] || !strings.HasPrefix(m.Token, "tok_local_") ||
			strings.Contains(m.Token, digits) || m.ExpiryMonth != 12 || m.ExpiryYear != 2027 {
			t.Errorf("%s: %+v %v", number, m, err)
		}
	}
}

func TestLocal_refuses_by_Luhn_brand_security_code_and_expiry_against_its_clock(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 5, 31, 23, 59, 0, 0, time.UTC))
	p := payment.NewLocal(clk)
	cases := map[string]struct {
		c     payment.Card
		field string
	}{
		"Luhn":            {card("4242424242424241", "123", 12, 2027), "number"},
		"brand":           {card("9999999999999995", "123", 12, 2027), "number"},
		"letters":         {card("4242abcd42424242", "123", 12, 2027), "number"},
		"short code":      {card("4242424242424242", "12", 12, 2027), "securityCode"},
		"amex wants four": {card("378282246310005", "123", 12, 2027), "securityCode"},
		"month":           {card("4242424242424242", "123", 13, 2027), "expiryMonth"},
		"no name":         {func() payment.Card { c := card("4242424242424242", "123", 12, 2027); c.NameOnCard = ""; return c }(), "nameOnCard"},
		"no postal code": {func() payment.Card {
			c := card("4242424242424242", "123", 12, 2027)
			c.Address.PostalCode = ""
			return c
		}(), "address.postalCode"},
		"country is two letters": {func() payment.Card {
			c := card("4242424242424242", "123", 12, 2027)
			c.Address.Country = "USA"
			return c
		}(), "address.country"},
	}
	for name, c := range cases {
		_, err := p.Tokenize(ctx, c.c)
		var invalid *payment.Invalid
		if !errors.As(err, &invalid) || invalid.Fields[c.field] == "" {
			t.Errorf("%s: %v, want %s named", name, err, c.field)
			continue
		}
		for _, why := range invalid.Fields {
			if strings.Contains(why, c.c.Number) || strings.Contains(why, c.c.SecurityCode) {
				t.Errorf("%s: the reason %q repeats the card", name, why)
			}
		}
	}
	// A card of 05/2026 pays until the end of May, by the provider's clock.
	if _, err := p.Tokenize(ctx, card("4242424242424242", "123", 5, 2026)); err != nil {
		t.Fatalf("a card in its last minute: %v", err)
	}
	clk.Advance(time.Minute)
	if _, err := p.Tokenize(ctx, card("4242424242424242", "123", 5, 2026)); !errors.Is(err, payment.ErrExpired) {
		t.Fatalf("a card a minute after its month: %v", err)
	}
	if _, err := p.Tokenize(ctx, card("4000000000000002", "123", 5, 2030)); !errors.Is(err, payment.ErrDeclined) {
		t.Fatalf("the declined test card: %v", err)
	}
}

func TestLocal_edits_a_vaulted_card_and_refuses_an_unknown_token(t *testing.T) {
	p := payment.NewLocal(clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)))
	m, err := p.Tokenize(ctx, card("4242424242424242", "123", 12, 2027))
	if err != nil {
		t.Fatal(err)
	}
	month, year, code := 3, 2029, "987"
	edited, err := p.Update(ctx, m, payment.Edit{SecurityCode: &code, ExpiryMonth: &month, ExpiryYear: &year})
	if err != nil || edited.Token != m.Token || edited.ExpiryMonth != 3 || edited.ExpiryYear != 2029 || edited.Last4 != "4242" {
		t.Fatalf("edited %+v %v", edited, err)
	}
	past := 2025
	if _, err := p.Update(ctx, m, payment.Edit{ExpiryMonth: &month, ExpiryYear: &past}); !errors.Is(err, payment.ErrExpired) {
		t.Fatalf("an expiry in the past: %v", err)
	}
	if _, err := p.Update(ctx, m, payment.Edit{ExpiryMonth: &month}); err == nil {
		t.Fatal("a month without a year was accepted")
	}
	_ = p.Forget(ctx, m.Token)
	if _, err := p.Update(ctx, m, payment.Edit{SecurityCode: &code}); !errors.Is(err, payment.ErrUnknownToken) {
		t.Fatalf("a forgotten token: %v", err)
	}
}

func TestLuhn(t *testing.T) {
	for s, want := range map[string]bool{"79927398713": true, "79927398710": false, "0": true, "": false} {
		if payment.Luhn(s) != want {
			t.Errorf("Luhn(%q) != %v", s, want)
		}
	}
}
