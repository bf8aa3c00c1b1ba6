package projections

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

func TestWrittenTypes_are_the_types_a_projector_writes_for(t *testing.T) {
	users := writtenTypes(Users{})
	for _, e := range []event.Event{user.Invited{}, user.RolesChanged{}, account.Registered{}} {
		if !users[e.EventType()] {
			t.Errorf("users: %s not written", e.EventType())
		}
	}
	for _, e := range []event.Event{reservation.Claimed{}, subscription.LicensesAssigned{}} {
		if users[e.EventType()] {
			t.Errorf("users: %s written", e.EventType())
		}
	}
	licenses := writtenTypes(Licenses{})
	if !licenses[subscription.LicensesAssigned{}.EventType()] || licenses[user.Invited{}.EventType()] {
		t.Errorf("licenses: %v", licenses)
	}
	for typ, w := range writtenTypes(Audit{}) {
		if !w {
			t.Errorf("audit: %s not written", typ)
		}
	}
}

// The probe answers by type; real events must agree with it, or a batch
// of them would be passed over unapplied.
func TestWrittenTypes_agree_with_real_events(t *testing.T) {
	written := writtenTypes(Users{})
	for _, env := range randomUserEvents(rand.New(rand.NewPCG(3, 5)), 300) {
		q := &pgx.Batch{}
		Users{}.Apply(q, env)
		if got := q.Len() > 0; got != written[env.Event.EventType()] {
			t.Fatalf("%s: Apply writes %v, the probe says %v", env.Event.EventType(), got, written[env.Event.EventType()])
		}
	}
}

// otherVersion is Users as a build of another version would run it.
type otherVersion struct{ Users }

func (otherVersion) Version() int { return Users{}.Version() + 1 }

func TestPassOver_moves_the_checkpoint_only_forward_on_the_right_build_with_no_dead_letter(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	active, _, err := Ensure(ctx, pool, Users{})
	if err != nil {
		t.Fatal(err)
	}
	at := func(n uint64) eventstore.Position { return eventstore.Position{Commit: n, Prepare: n} }
	checkpoint := func() eventstore.Position {
		t.Helper()
		pos, err := LoadCheckpoint(ctx, pool, active.Schema)
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}
	advance := func(to, from uint64) error {
		_, err := pool.Exec(ctx, `SELECT advance_checkpoint($1, $2, $2, $3, $3)`, active.Schema, int64(to), int64(from))
		return err
	}
	passes := func(p Versioned, to uint64, want bool) {
		t.Helper()
		moved, err := passOver(ctx, pool, p, at(to))
		if err != nil || moved != want {
			t.Fatalf("passOver to %d: moved %v, %v; want moved %v", to, moved, err, want)
		}
	}

	if err := advance(5, 0); err != nil {
		t.Fatal(err)
	}
	passes(Users{}, 7, true)
	if got := checkpoint(); got != at(7) {
		t.Fatalf("checkpoint %s, want 7-7", got)
	}
	passes(Users{}, 6, false)
	passes(otherVersion{}, 9, false)
	if _, err := pool.Exec(ctx, `
		INSERT INTO projection_dead_letters (projector, event_id, stream, commit_pos, prepare_pos, event_type, data, metadata, revision, recorded_at, status)
		VALUES ('users', gen_random_uuid(), 'user-1', 3, 3, 'user.invited', '', '', 0, now(), 'parked')`); err != nil {
		t.Fatal(err)
	}
	passes(Users{}, 9, false)
	if got := checkpoint(); got != at(7) {
		t.Fatalf("checkpoint %s after refusals, want 7-7", got)
	}

	// The compare-and-set of a whole batch raises when the checkpoint
	// moved, so that the COMMIT behind it in the pipeline never runs.
	var pgErr *pgconn.PgError
	if err := advance(9, 5); !errors.As(err, &pgErr) || pgErr.Code != checkpointMovedCode {
		t.Fatalf("advance from a stale checkpoint: %v, want SQLSTATE %s", err, checkpointMovedCode)
	}
	if err := advance(9, 7); err != nil {
		t.Fatal(err)
	}
	if got := checkpoint(); got != at(9) {
		t.Fatalf("checkpoint %s, want 9-9", got)
	}
}
