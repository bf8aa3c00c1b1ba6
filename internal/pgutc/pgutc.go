// Package pgutc makes pgx scan every timestamptz in UTC. pgx scans one in
// the process's zone (time.Local), and the API answers times as RFC 3339
// in UTC (API.md): each read converted its times itself, and those that
// did not (the license routes, the webhooks' list) answered "…+09:00" in
// a process started with TZ=Asia/Seoul. In UTC at the source, no route
// has to remember.
package pgutc

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Use registers in m the timestamptz type whose codec scans in UTC.
func Use(m *pgtype.Map) {
	ts := &pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}}
	m.RegisterType(ts)
	m.RegisterType(&pgtype.Type{Name: "_timestamptz", OID: pgtype.TimestamptzArrayOID, Codec: &pgtype.ArrayCodec{ElementType: ts}})
}
