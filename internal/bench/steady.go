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

// steadyProbes is how many rates highestKeptUp bisects with: the answer
// is within (hi-lo)/2^steadyProbes of the highest rate kept up with, lo
// and hi the bounds it bisects between.
const steadyProbes = 5

// steadyRate is the highest InviteUser rate the whole service keeps up
// with when commands come steadily (highestKeptUp), with a paced probe of
// d at each rate: kept up when the last command answered within keptUp of
// the probe's end and every projector and consumer caught up within
// keptUp of that. burst, the closed loop's rate, is the first guess at
// the bound: its backlog is caught up in large batches, a transaction for
// many events, where a steady rate brings one or a few events a
// transaction, so it can overstate the steady rate; but its catch-up
// counts against it too, and it can understate it as well.
func steadyRate(ctx context.Context, n *node, burst float64, d time.Duration) (float64, error) {
	probe := 0
	return highestKeptUp(burst, func(rate float64) (bool, error) {
		defer func() { probe++ }()
		return keepsUp(ctx, n, rate, d, probe)
	})
}

// maxRaises is how many times highestKeptUp doubles a guess that was
// kept up with.
const maxRaises = 3

// highestKeptUp is the highest rate keeps says is kept up with: guess
// is probed first, and doubled while it is kept up with (maxRaises
// times at most), then the rate is found by bisection (steadyProbes
// probes) between the highest kept up with and the lowest not. Bisecting
// below the guess alone, as it once did, answered 31/32 of the guess
// whenever the service kept up with more, a rate it had not looked
// past, and 0/s when it kept up with none, which the live measure then
// paced at; that is an error.
func highestKeptUp(guess float64, keeps func(rate float64) (bool, error)) (float64, error) {
	lo, hi := 0.0, guess
	for range maxRaises {
		ok, err := keeps(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, 2*hi
	}
	for range steadyProbes {
		rate := (lo + hi) / 2
		ok, err := keeps(rate)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = rate
		} else {
			hi = rate
		}
	}
	if lo == 0 {
		return 0, fmt.Errorf("no steady rate kept up with, down to %.1f/s", hi)
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
