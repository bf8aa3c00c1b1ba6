package main

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// migrate over a database a newer release migrated applies nothing, and
// says so: it said "migrations applied", as if it had brought the
// database to this binary's version.
func TestMigrate_says_when_the_database_is_ahead_of_the_binary(t *testing.T) {
	ctx := context.Background()
	url := pgtest.EmptyURL(t)
	t.Setenv("DATABASE_URL", url)
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	if err := migrate(ctx, nil, log); err != nil || !strings.Contains(out.String(), "migrations applied") {
		t.Fatalf("a new database: %v, logged %q", err, out.String())
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// What a newer release's migration leaves.
	if _, err := db.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := migrate(ctx, nil, log); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "migrated by a newer release") || !strings.Contains(got, "database=9999") || strings.Contains(got, "migrations applied") {
		t.Fatalf("a database ahead of the binary: logged %q", got)
	}
}
