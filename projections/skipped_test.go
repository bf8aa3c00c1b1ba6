package projections

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
)

// poisoned is a live users build that parked the invitation of a user
// named Poison (a CHECK constraint of the live build refuses the row),
// with users invited before and after it; it returns the live build, the
// letter's id and the poisoned user.
func poisoned(ctx context.Context, t *testing.T, pool *pgxpool.Pool, store *postgres.Store) (Active, int64, uuid.UUID) {
	t.Helper()
	invitedSome(ctx, t, store, "b", 2)
	bad := uuid.New()
	invite(ctx, t, store, user.Invited{UserID: bad, AccountID: uuid.New(), Email: "poison@example.com", LastName: "Poison", Roles: []user.Role{user.AccountViewer}})
	invitedSome(ctx, t, store, "a", 2)
	live, _, err := EnsureOver(ctx, pool, store, Users{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE `+pgx.Identifier{live.Schema, "rm_users"}.Sanitize()+` ADD CHECK (last_name <> 'Poison')`); err != nil {
		t.Fatal(err)
	}
	events, err := store.ReadAll(ctx, eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	b := Batch{Through: events[len(events)-1].Position}
	for i := range events {
		b.Records = append(b.Records, newRecord(&events[i]))
	}
	tries := &attempts{}
	for range MaxAttempts {
		_ = applyEachActive(ctx, pool, Users{}, b, tries, traceBatch(ctx, "test", b), nil)
	}
	var id int64
	if err := pool.QueryRow(ctx, `SELECT id FROM projection_dead_letters WHERE status = 'parked'`).Scan(&id); err != nil {
		t.Fatalf("no parked dead letter: %v", err)
	}
	return live, id, bad
}

// skipOf is the Resolution of an operator's skip of a dead letter.
func skipOf(id int64) Resolution {
	return Resolution{ID: id, Skip: true, By: "op", Reason: "bad test data"}
}

// An operator skips a dead letter while a rebuild runs, after the build
// has applied its event. The rebuild switched in all the same: the
// skipped event came back into the read model, readers saw the user the
// operator had left out, and every verify after found the live build
// different from a fresh one (which leaves skipped events out).
func TestRebuild_leaves_out_an_event_skipped_after_the_build_applied_it(t *testing.T) {
	ctx, pool, inner := storeFixture(t)
	_, id, bad := poisoned(ctx, t, pool, inner)
	store := &endOnce{Store: inner, hook: func() {
		if _, err := Resolve(ctx, pool, Users{}, skipOf(id)); err != nil {
			t.Error(err)
		}
	}}
	if _, err := Rebuild(ctx, pool, store, Users{}, nil); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM rm_users WHERE user_id = $1`, bad).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the skipped user has %d rows in the rebuilt read model (%v), want none", n, err)
	}
	if status := texts(t, pool, "public", `SELECT status FROM projection_dead_letters`); len(status) != 1 || status[0] != DeadSkipped {
		t.Fatalf("dead letters %v, want the one skipped", status)
	}
	if diffs, err := Verify(ctx, pool, inner, Users{}, io.Discard, nil); err != nil || diffs != 0 {
		t.Fatalf("verify after the rebuild: %d rows differ, %v", diffs, err)
	}
}

// A skip while a verify builds its scratch copy, after the copy applied
// the event: the copy holds what the live build now leaves out, and the
// verify reported rows that differ (exit 1), a finding that was none. It
// says it could not check instead.
func TestVerify_does_not_report_an_event_skipped_after_its_scratch_build_applied_it(t *testing.T) {
	ctx, pool, inner := storeFixture(t)
	_, id, _ := poisoned(ctx, t, pool, inner)
	store := &endOnce{Store: inner, hook: func() {
		if _, err := Resolve(ctx, pool, Users{}, skipOf(id)); err != nil {
			t.Error(err)
		}
	}}
	diffs, err := Verify(ctx, pool, store, Users{}, io.Discard, nil)
	if !errors.Is(err, errSkippedApplied) || diffs != 0 {
		t.Fatalf("verify: %d rows differ, %v; want it to say a skip came after the scratch build applied the event", diffs, err)
	}
	if diffs, err := Verify(ctx, pool, inner, Users{}, io.Discard, nil); err != nil || diffs != 0 {
		t.Fatalf("verify again: %d rows differ, %v", diffs, err)
	}
}
