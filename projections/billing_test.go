package projections

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// The invoicing rule is written twice: in Go (billing.Line, where it is
// documented and unit tested) and in SQL (billing_line, which the
// projector runs). They must agree to the cent on any input: here 300
// subscriptions of ten lines each, each line rounded alone or, from
// billing.RunningFrom on, as the running total of the lines before.
func TestLine_SQL_agrees_with_the_rule(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	a, _, err := Ensure(ctx, pool, Billing{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(10, 2026))
	currencies := []string{"USD", "EUR", "KRW", "JPY", "GBP", "VND"}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := setSchema(ctx, tx, a.Schema); err != nil {
			return err
		}
		var from time.Time
		if err := tx.QueryRow(ctx, `SELECT billing_running_from()`).Scan(&from); err != nil {
			return err
		}
		if !from.Equal(billing.RunningFrom) {
			t.Fatalf("billing_running_from() is %v, billing.RunningFrom %v", from, billing.RunningFrom)
		}
		for range 300 {
			base := 1 + rng.IntN(1000)
			decimals := rng.IntN(5)
			price := fmt.Sprint(rng.Int64N(1_000_000_000))
			if decimals > 0 {
				price += "." + fmt.Sprintf("%0*d", decimals, rng.IntN(pow10(decimals)))
			}
			term := time.Duration(1+rng.Int64N(10*366*24*3600*1_000_000)) * time.Microsecond
			currency := currencies[rng.IntN(len(currencies))]
			before, beforeNum := new(big.Rat), "0"
			for i := range 10 {
				delta := rng.IntN(2001) - 1000
				if i == 0 {
					delta = base // a purchase
				}
				remaining := time.Duration(rng.Int64N(int64(term/time.Microsecond)*12/10)-int64(term/time.Microsecond)/10) * time.Microsecond
				if i%4 == 3 {
					remaining = term / 2 // halves meet the rounding rule often
				}
				at := billing.RunningFrom.Add(time.Duration(rng.IntN(3)-1) * time.Microsecond)
				want, after, err := billing.Line(before, at, delta, base, price, remaining, term, currency)
				if err != nil {
					return err
				}
				var got string
				if err := tx.QueryRow(ctx, `SELECT amount::text, after_num::text FROM billing_line($1, $2::numeric, $3, $4::numeric, $5::numeric, $6, $7::numeric, $8)`,
					delta, price, base, remaining.Microseconds(), term.Microseconds(), currency, beforeNum, at).Scan(&got, &beforeNum); err != nil {
					return err
				}
				if got != want {
					t.Errorf("%d × %s %s / %d, %v of %v at %v after %s: SQL %s, Go %s", delta, price, currency, base, remaining, term,
						at, before.FloatString(6), got, want)
				}
				before = after
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}
