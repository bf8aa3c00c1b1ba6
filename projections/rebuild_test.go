package projections

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// testBuild starts a build that the test holds until it ends.
func testBuild(ctx context.Context, t *testing.T, pool *pgxpool.Pool, p Versioned, ddl string) string {
	t.Helper()
	schema, release, err := startBuildWith(ctx, pool, p, "test", ddl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return schema
}

// A rebuild killed half way leaves its build behind; the next build of
// the projector drops it, and leaves alone one that a live process holds.
func TestRebuild_drops_the_build_a_killed_rebuild_left_behind(t *testing.T) {
	ctx, pool, store := storeFixture(t)
	for i := range 3 {
		invited(ctx, t, store, "k"+string(rune('a'+i))+"@example.com")
	}
	killed, release, err := startBuild(ctx, pool, Users{}, "rebuild")
	if err != nil {
		t.Fatal(err)
	}
	if err := build(ctx, pool, store, Users{}, killed, nil, nil); err != nil {
		t.Fatal(err)
	}
	release() // kill -9: the process's sessions end, its rows stay
	running := testBuild(ctx, t, pool, Users{}, Users{}.Schema())

	a, err := Rebuild(ctx, pool, store, Users{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exists := func(schema string) bool {
		var found bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)
			OR EXISTS (SELECT FROM projection_builds WHERE schema_name = $1)
			OR EXISTS (SELECT FROM projection_checkpoints WHERE name = $1)`, schema).Scan(&found); err != nil {
			t.Fatal(err)
		}
		return found
	}
	if exists(killed) {
		t.Fatalf("the killed rebuild's build %s is still there", killed)
	}
	if !exists(running) {
		t.Fatalf("the build %s of a live process was dropped", running)
	}
	var listed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM projection_builds WHERE schema_name = $1`, a.Schema).Scan(&listed); err != nil || listed != 0 {
		t.Fatalf("the switched-in build %s still listed as in progress: %d, %v", a.Schema, listed, err)
	}
}
