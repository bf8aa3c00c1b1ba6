package readapi

import (
	"context"
	"runtime"
)

// DefaultConcurrent is how many reads query at once unless told: twice the
// cores. More only share the cores with each other (and with the database
// they wait on, on the same machine): each read then takes longer, and the
// slowest far longer, for no more reads a second. With 32 dashboards
// listing users at once on two cores (make bench), the slowest 1% took
// 98-107 ms with every read querying, 54-59 ms with four at a time. A
// read waiting for ?after waits before it takes its turn.
func DefaultConcurrent() int { return max(2, 2*runtime.GOMAXPROCS(0)) }

// query runs fn once a token is free, in the order the reads asked.
func query[Out any](ctx context.Context, d Deps, fn func(context.Context) (Out, error)) (Out, error) {
	var zero Out
	if d.running == nil { // Deps not made by Routes
		return fn(ctx)
	}
	select {
	case d.running <- struct{}{}:
	case <-ctx.Done():
		return zero, ctx.Err()
	}
	defer func() { <-d.running }()
	return fn(ctx)
}
