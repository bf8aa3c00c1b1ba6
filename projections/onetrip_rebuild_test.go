package projections

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
)

// A rebuild switched in (and the old build dropped) while the handler is
// live leaves the handler remembering a build that is gone: its next batch
// goes to the build switched in, from that build's checkpoint, applying
// nothing twice, though its connections hold statements planned for the
// dropped build; the batch after goes in one round trip again.
func TestHandler_follows_a_rebuild_switched_in_while_it_is_live(t *testing.T) {
	ctx := context.Background()
	pool, sent := countedPool(t)
	store := postgres.New(pool, postgres.Config{})
	old, _, err := Ensure(ctx, pool, Users{})
	if err != nil {
		t.Fatal(err)
	}
	handle := Handler(pool, Users{}, writtenTypes(Users{}), nil)
	at := eventstore.Start
	next := func(email string) (trips int64) {
		t.Helper()
		invited(ctx, t, store, email)
		events, err := store.ReadAll(ctx, at, 10)
		if err != nil || len(events) != 1 {
			t.Fatalf("read %d events after %s: %v", len(events), at, err)
		}
		at = events[0].Position
		before := sent.n.Load()
		if err := handle(Batch{Records: []Record{newRecord(&events[0])}, Through: at}.message(ctx)); err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		return sent.n.Load() - before
	}
	next("r1@example.com")
	if trips := next("r2@example.com"); trips != 1 {
		t.Fatalf("before the rebuild: %d round trips, want 1", trips)
	}

	rebuilt, err := Rebuild(ctx, pool, store, Users{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	next("r3@example.com")
	if trips := next("r4@example.com"); trips != 1 {
		t.Fatalf("after the rebuild: %d round trips, want 1", trips)
	}

	var gone bool
	if err := pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)`, old.Schema).Scan(&gone); err != nil || !gone {
		t.Fatalf("the old build %s is still there: %v", old.Schema, err)
	}
	emails := texts(t, pool, rebuilt.Schema, `SELECT email || ' ' || invitation_count FROM rm_users ORDER BY 1`)
	want := []string{"r1@example.com 1", "r2@example.com 1", "r3@example.com 1", "r4@example.com 1"}
	if !slices.Equal(emails, want) {
		t.Fatalf("the build switched in holds %v, want %v", emails, want)
	}
	if got, err := LoadCheckpoint(ctx, pool, rebuilt.Schema); err != nil || got != at {
		t.Fatalf("the build switched in is at %s (%v), want %s", got, err, at)
	}
	var viewed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{"public", "rm_users"}.Sanitize()).Scan(&viewed); err != nil || viewed != 4 {
		t.Fatalf("readers see %d users (%v), want 4", viewed, err)
	}
}
