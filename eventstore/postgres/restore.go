package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Open is New for a process that appends or reads the log: it first makes
// sure the positions of new appends follow every stored event's
// (keep_log_ahead, migrations/025). They begin with the appending
// transaction's id, and a database restored by pg_restore into another
// cluster holds events whose ids that cluster has not reached: appended
// to as it was, every reader whose checkpoint was restored with them
// passed over each new event for good. Outside such a restore it only
// looks, in one indexed query.
func Open(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Store, error) {
	if _, err := pool.Exec(ctx, `SELECT keep_log_ahead()`); err != nil {
		return nil, fmt.Errorf("keep the log's positions ahead: %w", err)
	}
	return New(pool, cfg), nil
}
