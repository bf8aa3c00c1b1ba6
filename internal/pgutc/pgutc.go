// Package pgutc makes pgx scan every timestamptz in UTC. pgx scans one in
// the process's zone (time.Local), and the API answers times as RFC 3339
// in UTC (API.md): each read converted its times itself, and those that
// did not (the license routes, the webhooks' list) answered "…+09:00" in
// a process started with TZ=Asia/Seoul. In UTC at the source, no route
// has to remember.
package pgutc

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Register makes every connection of the pool config's pools scan
// timestamptz values (and arrays of them) in UTC, after whatever
// AfterConnect it had.
func Register(cfg *pgxpool.Config) {
	after := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		Use(c.TypeMap())
		if after != nil {
			return after(ctx, c)
		}
		return nil
	}
}

// Use registers in m the timestamptz type whose codec scans in UTC.
func Use(m *pgtype.Map) {
	ts := &pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}}
	m.RegisterType(ts)
	m.RegisterType(&pgtype.Type{Name: "_timestamptz", OID: pgtype.TimestamptzArrayOID, Codec: &pgtype.ArrayCodec{ElementType: ts}})
}
