package webhooks

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Kept is how long a delivery stays in webhook_deliveries once delivered.
// Nothing reads it after that (an endpoint's queue is its undelivered
// ones), and every event an endpoint took left its row, payload and all,
// for good: a table growing by a row an event an endpoint. A week keeps
// them for looking into what an endpoint was sent.
const Kept = 7 * 24 * time.Hour

// pruneEvery is how often a worker deletes what is past Kept.
const pruneEvery = time.Minute

// pruneBatch bounds one delete, so that it holds few locks and little
// WAL at a time.
const pruneBatch = 5000

// Prune deletes the deliveries delivered before before, a batch at a
// time, and returns how many. The workers of several instances may prune
// at once: a row goes once.
func Prune(ctx context.Context, pool *pgxpool.Pool, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := pool.Exec(ctx, `
			DELETE FROM webhook_deliveries WHERE id IN (
			       SELECT id FROM webhook_deliveries WHERE delivered_at < $1 LIMIT $2)`, before, pruneBatch)
		if err != nil {
			return total, err
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}
