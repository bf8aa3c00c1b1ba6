// Package pgtypes sets up every connection of a pool with this project's
// pgx types: uuid.UUID sent and scanned as the 16 bytes it is (pguuid),
// and timestamptz scanned in UTC (pgutc). Each pool registers them here,
// once, rather than chaining an AfterConnect per type.
package pgtypes

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/internal/pgutc"
	"github.com/bizcenter/bizcenter/internal/pguuid"
)

// Register makes every connection of the pool config's pools use the
// types, before whatever AfterConnect it had.
func Register(cfg *pgxpool.Config) {
	after := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		pguuid.Use(c.TypeMap())
		pgutc.Use(c.TypeMap())
		if after != nil {
			return after(ctx, c)
		}
		return nil
	}
}
