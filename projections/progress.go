package projections

import (
	"context"
	"sync/atomic"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Progress is told, after each page, how many events a build has applied,
// and the total once the store has counted it (0 until then, or when it
// cannot).
type Progress func(done, total int64)

// Counter is a store that can count its events (for progress bars).
type Counter interface {
	Count(ctx context.Context) (int64, error)
}

// countBeside counts the store's events for progress while the build
// goes on: the count of a large log takes a moment the build need not
// wait for. Until it comes (or if it fails), the total is 0, which a
// progress shows as events done without a bar.
func countBeside(ctx context.Context, store eventstore.Store, progress Progress) *atomic.Int64 {
	var total atomic.Int64
	if c, ok := store.(Counter); ok && progress != nil {
		go func() {
			if n, err := c.Count(ctx); err == nil {
				total.Store(n)
			}
		}()
	}
	return &total
}
