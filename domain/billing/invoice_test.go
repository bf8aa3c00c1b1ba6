package billing_test

import (
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/domain/billing"
)

const day = 24 * time.Hour

func TestProrate_charges_and_credits_the_rest_of_the_term(t *testing.T) {
	cases := []struct {
		name            string
		delta, base     int
		price           string
		remaining, term time.Duration
		currency, want  string
	}{
		{"a purchase is its price", 100, 100, "1234.50", 365 * day, 365 * day, "USD", "1234.50"},
		{"5 more with 200 of 365 days left", 5, 100, "1234.50", 200 * day, 365 * day, "USD", "33.82"},
		{"cancelling 105 with 100 days left", -105, 100, "1234.50", 100 * day, 365 * day, "USD", "-355.13"},
		{"half a cent rounds away from zero", 1, 2, "0.01", day, day, "USD", "0.01"},
		{"a negative half cent too", -1, 2, "0.01", day, day, "USD", "-0.01"},
		{"just under half a cent rounds down", 1, 2, "0.0099", day, day, "USD", "0.00"},
		{"won are whole", 3, 10, "1000", 10 * day, 30 * day, "KRW", "100"},
		{"yen round half away", 1, 3, "1", day, 2 * day, "JPY", "0"},
		{"four-decimal prices", 7, 3, "99.9900", 11 * time.Hour, 24 * time.Hour, "EUR", "106.93"},
		{"after expiry nothing is left", 5, 10, "100", -day, 10 * day, "USD", "0.00"},
		{"a change without a difference", 0, 10, "100", day, 10 * day, "USD", "0.00"},
	}
	for _, c := range cases {
		got, err := billing.Prorate(c.delta, c.base, c.price, c.remaining, c.term, c.currency)
		if err != nil || got != c.want {
			t.Errorf("%s: %q %v, want %q", c.name, got, err, c.want)
		}
	}
}

func TestProrate_refuses_what_is_not_a_decimal(t *testing.T) {
	for _, price := range []string{"1e3", "1/3", "abc", ""} {
		if _, err := billing.Prorate(1, 1, price, day, day, "USD"); err == nil {
			t.Errorf("price %q was accepted", price)
		}
	}
	if _, err := billing.Prorate(1, 0, "1", day, day, "USD"); err == nil {
		t.Error("no base licenses was accepted")
	}
}
