package billing

import (
	"errors"
	"math/big"
	"strings"
	"time"

	"github.com/bizcenter/bizcenter/domain/subscription"
)

// The invoicing rule. Invoice lines follow from the subscription events
// (the billing projector applies this rule in SQL, as billing_line in
// projections/billing.sql; TestLine_SQL_agrees_with_the_rule checks
// that both give the same amounts):
//
//   - A subscription's price is what its licenses at purchase (base) cost
//     for its whole term, from purchasedAt to expiresAt. One license for
//     the whole term costs price / base.
//   - A change of licenses by delta (new total minus previous total) at a
//     moment t is charged (delta > 0) or credited (delta < 0) for the part
//     of the term still to run:
//
//     amount = delta × price × (expiresAt − t) / (base × (expiresAt − purchasedAt))
//
//     with both durations counted in microseconds, the resolution at which
//     events record time.
//   - A purchase is the change from 0 to base licenses at purchasedAt: the
//     price itself. A cancellation is the change from the current total to
//     0 at cancelledAt: a credit for the licenses' unused time.
//   - The exact rational amount is rounded half away from zero to the
//     currency's minor unit (MinorDigits). No float is involved: the
//     price is read as an exact decimal and the arithmetic is on integers.
//     A line that occurs before RunningFrom is its own amount rounded; one
//     from then on is what it adds to the subscription's running total
//     rounded: the exact sum of its lines to this one, rounded, less the
//     exact sum of those before it, rounded (Line). Lines rounded one by
//     one drifted from what the licenses cost: a thousand changes of a
//     cent's third each came to nothing, and the cancellation of them all
//     credited the whole.
//   - A line belongs to the invoice of its account, its currency and the
//     calendar month (UTC) in which it occurred.

// Kinds of invoice lines.
const (
	LinePurchase     = "purchase"
	LineChange       = "license_change"
	LineCancellation = "cancellation"
)

// MinorDigits is how many decimals amounts in a currency are invoiced
// with: 0 for CLP, ISK, JPY, KRW and VND, 2 for the others (the rule of
// prices, subscription.MinorDigits).
func MinorDigits(currency string) int { return subscription.MinorDigits(currency) }

// RunningFrom is when lines began to be rounded as their subscription's
// running total (the rule above). Lines before it keep the amounts they
// were invoiced with, in every build of the read model: months whose
// invoices were issued do not change. It is the first month whose
// invoices no release before it derived.
var RunningFrom = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// Prorate is the amount of a change of delta licenses with remaining of a
// subscription's term left, rounded alone, as a decimal string with
// exactly MinorDigits(currency) decimals ("-355.13", "1200").
func Prorate(delta, base int, price string, remaining, term time.Duration, currency string) (string, error) {
	amount, _, err := Line(new(big.Rat), time.Time{}, delta, base, price, remaining, term, currency)
	return amount, err
}

// Line is the amount of a subscription's line that occurs at a moment
// (by the rule above) and changes delta licenses with remaining of the
// term left, as Prorate writes it; before is the exact sum of the
// subscription's earlier lines, in minor units, and after that sum with
// this line.
func Line(before *big.Rat, at time.Time, delta, base int, price string, remaining, term time.Duration, currency string) (amount string, after *big.Rat, err error) {
	p, ok := new(big.Rat).SetString(price)
	if !ok || strings.ContainsAny(price, "eE/") {
		return "", nil, errors.New("prorate: the price is not a decimal")
	}
	if base < 1 || term <= 0 {
		return "", nil, errors.New("prorate: no licenses or no term")
	}
	remaining = min(max(remaining, 0), term)
	digits := MinorDigits(currency)
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	r := new(big.Rat).Mul(p, big.NewRat(int64(delta), 1))
	r.Mul(r, new(big.Rat).SetFrac(big.NewInt(remaining.Microseconds()), big.NewInt(term.Microseconds())))
	r.Quo(r, big.NewRat(int64(base), 1))
	r.Mul(r, new(big.Rat).SetInt(scale))
	after = new(big.Rat).Add(before, r)
	minor := roundHalfAway(r)
	if !at.Before(RunningFrom) {
		minor = new(big.Int).Sub(roundHalfAway(after), roundHalfAway(before))
	}
	return formatMinor(minor, digits), after, nil
}

// roundHalfAway rounds a rational to the nearest integer, halves away
// from zero.
func roundHalfAway(r *big.Rat) *big.Int {
	num, den := new(big.Int).Abs(r.Num()), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Lsh(m, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// formatMinor writes an amount counted in minor units as a decimal.
func formatMinor(n *big.Int, digits int) string {
	neg := n.Sign() < 0
	s := new(big.Int).Abs(n).String()
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
