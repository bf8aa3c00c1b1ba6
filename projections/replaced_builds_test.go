package projections

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/migrations"
)

// Migration 023 lists the builds an earlier release replaced and never
// dropped (nothing named them), so the next build drops them: not the
// active build, not a build listed already, not a schema not named as
// builds are.
func TestMigration023_lists_the_builds_left_unnamed_for_the_next_build_to_drop(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	invitedSome(ctx, t, store, "m", 2)
	active, _, err := EnsureOver(ctx, pool, store, Users{})
	if err != nil {
		t.Fatal(err)
	}
	left := fmt.Sprintf("rm_users_v%d_0a1b2c", Users{}.Version())
	for _, schema := range []string{left, "rm_custom"} {
		if _, err := pool.Exec(ctx, `CREATE SCHEMA `+schema+`; CREATE TABLE `+schema+`.rm_users (user_id uuid)`); err != nil {
			t.Fatal(err)
		}
	}
	up, err := migrations.Files.ReadFile("023_replaced_builds.sql")
	if err != nil {
		t.Fatal(err)
	}
	sql, _, _ := strings.Cut(string(up), "-- +goose Down")
	if _, err := pool.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
	a, err := Rebuild(ctx, pool, store, Users{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if buildLeft(ctx, t, pool, left) {
		t.Errorf("the build left unnamed, %s, is still there", left)
	}
	if buildLeft(ctx, t, pool, active.Schema) {
		t.Errorf("the build the rebuild replaced, %s, is still there", active.Schema)
	}
	var kept bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'rm_custom')`).Scan(&kept); err != nil || !kept {
		t.Errorf("a schema not named as builds are was dropped: %v", err)
	}
	var users int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_users`).Scan(&users); err != nil || users != 2 {
		t.Fatalf("readers read %d users of %s, %v; want 2", users, a.Schema, err)
	}
}
