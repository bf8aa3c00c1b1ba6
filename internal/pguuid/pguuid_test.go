package pguuid_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/internal/pguuid"
)

// A UUID sent as a parameter, alone, in an array and as a nil pointer,
// reaches PostgreSQL as it is, through this package's plan.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t) // registers pguuid
	id, other := uuid.New(), uuid.New()
	var none *uuid.UUID

	var back, fromText, null uuid.UUID
	var ptr *uuid.UUID
	var list []uuid.UUID
	var text string
	var isNull bool
	err := pool.QueryRow(ctx, `SELECT $1::uuid, $1::uuid::text, ($2::uuid[])::uuid[], NULL::uuid, $3::uuid IS NULL, $1::uuid, $1::text::uuid`,
		id, []uuid.UUID{id, other}, none).Scan(&back, &text, &list, &null, &isNull, &ptr, &fromText)
	if err != nil {
		t.Fatal(err)
	}
	if back != id || text != id.String() || fromText != id {
		t.Errorf("got %s, text %s, from text %s; want %s", back, text, fromText, id)
	}
	if len(list) != 2 || list[0] != id || list[1] != other {
		t.Errorf("array: got %v, want [%s %s]", list, id, other)
	}
	if null != uuid.Nil || !isNull {
		t.Errorf("NULL scanned as %s; nil pointer sent as NULL: %v", null, isNull)
	}
	if ptr == nil || *ptr != id {
		t.Errorf("pointer: got %v, want %s", ptr, id)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	m := conn.Conn().TypeMap()
	if plan := fmt.Sprintf("%T", m.PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, id)); plan != "*pguuid.encodePlan" {
		t.Errorf("a uuid.UUID parameter is encoded by %s, not by this package's plan", plan)
	}
	// Where PostgreSQL wants text, the UUID still goes as its text.
	var asText, asVarchar string
	if err := pool.QueryRow(ctx, `SELECT $1::text, $2::varchar`, id, id).Scan(&asText, &asVarchar); err != nil || asText != id.String() || asVarchar != id.String() {
		t.Errorf("as text: %q, %q, %v; want %s", asText, asVarchar, err, id)
	}
	if plan := fmt.Sprintf("%T", m.PlanScan(pgtype.UUIDOID, pgtype.BinaryFormatCode, &back)); plan != "pguuid.scanBinary" {
		t.Errorf("a uuid.UUID is scanned by %s, not by this package's plan", plan)
	}
	// A target scanned again reads a (binary) NULL as uuid.Nil, not as the
	// id before; the text form, scanned by uuid.UUID's own Scan, still
	// leaves it as it was.
	reused := id
	if err := pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&reused); err != nil || reused != uuid.Nil {
		t.Errorf("NULL into a used target: %s, %v", reused, err)
	}
	// Sent and read as text (the simple protocol), an id still scans.
	var simple uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT $1::uuid`, pgx.QueryExecModeSimpleProtocol, id).Scan(&simple); err != nil || simple != id {
		t.Errorf("as text: %s, %v; want %s", simple, err, id)
	}
	var nullPtr *uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT NULL::uuid`).Scan(&nullPtr); err != nil || nullPtr != nil {
		t.Errorf("NULL into a pointer: %v, %v", nullPtr, err)
	}
}

// eachMap runs a benchmark on pgx's own type map and on one with this
// package's plans.
func eachMap(b *testing.B, run func(b *testing.B, m *pgtype.Map)) {
	for _, use := range []bool{false, true} {
		b.Run(map[bool]string{false: "pgx", true: "pguuid"}[use], func(b *testing.B) {
			m := pgtype.NewMap()
			if use {
				pguuid.Use(m)
			}
			run(b, m)
		})
	}
}

// The plans take the place of pgx's detour through text for every UUID
// parameter (format, fail, parse, encode).
func BenchmarkEncode(b *testing.B) {
	eachMap(b, func(b *testing.B, m *pgtype.Map) {
		id, buf := uuid.New(), make([]byte, 0, 16)
		for b.Loop() {
			var err error
			if buf, err = m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, id, buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Scanning a binary uuid into a uuid.UUID copies its bytes, where pgx
// formatted it as text for uuid.UUID's Scan to parse.
func BenchmarkScan(b *testing.B) {
	eachMap(b, func(b *testing.B, m *pgtype.Map) {
		want := uuid.New()
		var id uuid.UUID
		for b.Loop() {
			if err := m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, want[:], &id); err != nil {
				b.Fatal(err)
			}
		}
		if id != want {
			b.Fatalf("scanned %s, want %s", id, want)
		}
	})
}

// A UUID where PostgreSQL wants something else fails as it did without
// the plan, rather than going through as sixteen numbers.
func TestMistakesStillFail(t *testing.T) {
	pool := pgtest.Pool(t)
	var got []int32
	err := pool.QueryRow(context.Background(), `SELECT $1::int4[]`, uuid.New()).Scan(&got)
	if err == nil {
		t.Fatalf("a UUID went through as int4[] %v", got)
	}
}
