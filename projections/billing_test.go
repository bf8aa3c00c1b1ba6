package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// The invoicing rule is written twice: in Go (billing.Prorate, where it is
// documented and unit tested) and in SQL (billing_prorate, which the
// projector runs). They must agree to the cent on any input.
func TestProrate_SQL_agrees_with_the_rule(t *testing.T) {
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
		for i := range 3000 {
			delta, base := rng.IntN(2001)-1000, 1+rng.IntN(1000)
			decimals := rng.IntN(5)
			price := fmt.Sprint(rng.Int64N(1_000_000_000))
			if decimals > 0 {
				price += "." + fmt.Sprintf("%0*d", decimals, rng.IntN(pow10(decimals)))
			}
			if i%7 == 0 {
				delta = base // a purchase
			}
			term := time.Duration(1+rng.Int64N(10*366*24*3600*1_000_000)) * time.Microsecond
			remaining := time.Duration(rng.Int64N(int64(term/time.Microsecond)*12/10)-int64(term/time.Microsecond)/10) * time.Microsecond
			if i%11 == 0 {
				remaining = term / 2 // halves meet the rounding rule often
			}
			currency := currencies[rng.IntN(len(currencies))]
			want, err := billing.Prorate(delta, base, price, remaining, term, currency)
			if err != nil {
				return err
			}
			var got string
			if err := tx.QueryRow(ctx, `SELECT billing_prorate($1, $2::numeric, $3, $4::numeric, $5::numeric, $6)::text`,
				delta, price, base, remaining.Microseconds(), term.Microseconds(), currency).Scan(&got); err != nil {
				return err
			}
			if got != want {
				t.Errorf("%d × %s %s / %d, %v of %v: SQL %s, Go %s", delta, price, currency, base, remaining, term, got, want)
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
