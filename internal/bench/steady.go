package bench

import (
	"context"
	"fmt"
	"os"
	"time"
)

// keptUp is how soon after a steady probe's last answer every projector
// and consumer must have caught up for the rate to count as sustained:
// live, they hold a batch 20-50 ms to gather more (see
// projections.passOverHold, service.sideEffectLinger), and the monitor
// is asked every 20 ms.
const keptUp = 500 * time.Millisecond

// steadyProbes is how many rates steadyRate tries: the answer is within
// burst/2^steadyProbes of the highest rate kept up with.
const steadyProbes = 5

// steadyRate is the highest InviteUser rate the whole service keeps up
// with when commands come steadily, found by bisection between 0 and
// burst (the closed loop's rate) with a paced probe of d at each rate:
// kept up when the last command answered within keptUp of the probe's
// end and every projector and consumer caught up within keptUp of that.
// The closed loop's own figure overstates it: its backlog is caught up
// in large batches, a transaction for many events, where a steady rate
// brings one or a few events a transaction.
func steadyRate(ctx context.Context, n *node, burst float64, d time.Duration) (float64, error) {
	lo, hi := 0.0, burst
	for p := range steadyProbes {
		rate := (lo + hi) / 2
		ok, err := keepsUp(ctx, n, rate, d, p)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = rate
		} else {
			hi = rate
		}
	}
	return lo, nil
}

// keepsUp invites at rate for d and reports whether the commands and then
// the consumers kept up (see steadyRate); it waits for them to catch up
// either way, so that the next probe starts level.
func keepsUp(ctx context.Context, n *node, rate float64, d time.Duration, probe int) (bool, error) {
	start := time.Now()
	if err := paced(rate, d, func(i int) error {
		_, err := n.invite(fmt.Sprintf("steady%d-%d@bench.example", probe, i))
		return err
	}); err != nil {
		return false, err
	}
	answered := time.Since(start) - d
	ended := time.Now()
	if err := caughtUp(ctx, n); err != nil {
		return false, err
	}
	behind := time.Since(ended)
	ok := answered <= keptUp && behind <= keptUp
	fmt.Fprintf(os.Stderr, "live: steady probe at %.0f/s for %v: last answer %v after its end, caught up %v after that: kept up %v\n",
		rate, d, answered.Round(time.Millisecond), behind.Round(time.Millisecond), ok)
	return ok, nil
}
