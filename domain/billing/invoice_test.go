package billing_test

import (
	"math/big"
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

// A thousand changes of a third of a cent each, then one taking them all
// back: rounded one by one the changes came to nothing and the
// cancellation credited 4.11; as the running total, the lines add up to
// what the changes cost, nothing.
func TestLine_rounds_the_running_total_from_RunningFrom_on(t *testing.T) {
	term := 365 * day
	sum := func(at time.Time) (total *big.Rat, charged int) {
		t.Helper()
		before, total := new(big.Rat), new(big.Rat)
		line := func(delta int) string {
			amount, after, err := billing.Line(before, at, delta, 1, "12.00", 3*time.Hour, term, "USD")
			if err != nil {
				t.Fatal(err)
			}
			before = after
			r, _ := new(big.Rat).SetString(amount)
			total.Add(total, r)
			return amount
		}
		for range 1000 {
			if line(1) != "0.00" {
				charged++
			}
		}
		line(-1000)
		return total, charged
	}
	if total, charged := sum(billing.RunningFrom.Add(-time.Microsecond)); total.FloatString(2) != "-4.11" || charged != 0 {
		t.Errorf("before RunningFrom: lines sum to %s, %d changes charged; want each rounded alone (-4.11, none)", total.FloatString(2), charged)
	}
	if total, charged := sum(billing.RunningFrom); total.Sign() != 0 || charged != 411 {
		t.Errorf("from RunningFrom: lines sum to %s, %d changes charged a cent; want 0.00 and 411", total.FloatString(2), charged)
	}
}
