package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// With a dead letter open on one stream, a batch of that stream's events
// and others' goes in one transaction, with no savepoint an event: the
// blocked stream's events wait behind the letter, in log order, the others
// are applied, and the outcome is the one-by-one path's. So are live
// batches of one event, of the blocked stream and of another.
func TestHandler_applies_a_batch_meeting_a_blocked_stream_in_one_transaction_as_one_by_one_would(t *testing.T) {
	ctx := context.Background()
	var l userLog
	a, b, c, d := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	parked := l.invited(a)
	l.cut() // applied, and parked, before the test
	l.resent(a)
	l.invited(b)
	l.resent(a)
	l.invited(c)
	l.add(b, user.InvitationAccepted{UserID: b, AccountID: l.account, AcceptedAt: l.at})
	l.resent(a)
	l.resent(c)
	l.cut()
	l.resent(a) // live: one event of the blocked stream
	l.cut()
	l.invited(d) // and one of another
	l.cut()

	batched, one := blockedBehind(t, parked), blockedBehind(t, parked)
	handle := Handler(batched.pool, Users{}, writtenTypes(Users{}), nil)
	for i, batch := range l.batches[1:] {
		if err := handle(batch.message(ctx)); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if err := applyEachActive(ctx, one.pool, Users{}, batch, &attempts{}, traceBatch(ctx, "test", batch), nil); err != nil {
			t.Fatalf("batch %d one by one: %v", i, err)
		}
		if i == 0 {
			// Every row the batch wrote, and the checkpoint, carry the xid
			// of one transaction: a savepoint an event would give each
			// event's rows its own.
			xids := texts(t, batched.pool, batched.schema, `
				SELECT xmin::text FROM rm_users UNION SELECT xmin::text FROM rm_user_history
				 UNION SELECT xmin::text FROM rm_user_counts UNION SELECT xmin::text FROM projection_checkpoints
				 UNION SELECT xmin::text FROM projection_dead_letters WHERE status = 'waiting'`)
			if len(xids) != 1 {
				t.Fatalf("the batch wrote in %d transactions or savepoints (xids %v), want one", len(xids), xids)
			}
		}
	}

	got, want := batched.outcome(t), one.outcome(t)
	if !slices.Equal(got, want) {
		t.Fatalf("applied as batches:\n%v\none by one:\n%v", got, want)
	}
	var waiting []string
	for _, r := range l.of(a)[1:] {
		waiting = append(waiting, r.ID.String())
	}
	held := texts(t, batched.pool, batched.schema, `SELECT event_id::text FROM projection_dead_letters WHERE status = 'waiting' ORDER BY id`)
	if !slices.Equal(held, waiting) {
		t.Fatalf("waiting behind the dead letter: %v, want the stream's later events in log order %v", held, waiting)
	}
	users := texts(t, batched.pool, batched.schema, `SELECT user_id::text FROM rm_users ORDER BY 1`)
	if want := sorted(b, c, d); !slices.Equal(users, want) {
		t.Fatalf("users %v, want those of the streams not blocked %v", users, want)
	}
}

// A dead letter resolved while a batch waits for the build's lock is
// closed for the batch: its stream's events flow, none waits behind it.
// (The statement that takes the lock reads with a snapshot from before the
// wait; whatever decides what is blocked must read after it.)
func TestHandler_a_dead_letter_resolved_while_a_batch_waits_holds_nothing_back(t *testing.T) {
	ctx := context.Background()
	var l userLog
	a, b := uuid.New(), uuid.New()
	parked := l.invited(a)
	l.cut()
	l.resent(a)
	l.invited(b)
	l.cut()
	db := blockedBehind(t, parked)

	// As Resolve does: the build locked for update, the letter skipped.
	op, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer op.Rollback(ctx) //nolint:errcheck // a no-op after commit
	if _, err := op.Exec(ctx, `SELECT FROM projection_versions WHERE name = 'users' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := op.Exec(ctx, `UPDATE projection_dead_letters SET status = 'skipped', resolved_by = 'op', resolved_reason = 'test' WHERE status = 'parked'`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Handler(db.pool, Users{}, writtenTypes(Users{}), nil)(l.batches[1].message(ctx)) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var waits bool
		if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waits); err != nil {
			t.Fatal(err)
		}
		if waits {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the batch never waited for the build's lock")
		}
	}
	if err := op.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if open := texts(t, db.pool, db.schema, `SELECT event_id::text FROM projection_dead_letters WHERE status IN ('parked', 'waiting')`); len(open) != 0 {
		t.Fatalf("events %v wait behind a skipped dead letter", open)
	}
	var count int
	if err := db.pool.QueryRow(ctx, `SELECT invitation_count FROM `+pgx.Identifier{db.schema, "rm_users"}.Sanitize()+` WHERE user_id = $1`, b).Scan(&count); err != nil || count != 1 {
		t.Fatalf("the other stream's user: %d invitations, %v", count, err)
	}
}

// userLog is a log of users' events in one account, at positions 1, 2,
// ..., cut into batches.
type userLog struct {
	account   uuid.UUID
	at        time.Time
	records   []Record
	batches   []Batch
	revisions map[uuid.UUID]uint64
	uncut     int
}

func (l *userLog) invited(id uuid.UUID) Record {
	return l.add(id, user.Invited{UserID: id, AccountID: l.account, Email: id.String()[:8] + "@example.com", FirstName: "F", LastName: "L",
		Language: "en", Country: "US", Roles: []user.Role{user.AccountViewer}, InvitationID: uuid.New(), SentAt: l.at, ExpiresAt: l.at.Add(72 * time.Hour)})
}

func (l *userLog) resent(id uuid.UUID) Record {
	return l.add(id, user.InvitationResent{UserID: id, AccountID: l.account, InvitationID: uuid.New(), SentAt: l.at, ExpiresAt: l.at.Add(96 * time.Hour)})
}

// add appends an event of user id's stream.
func (l *userLog) add(id uuid.UUID, e event.Event) Record {
	if l.revisions == nil {
		l.account, l.at, l.revisions = uuid.New(), time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), map[uuid.UUID]uint64{}
	}
	l.at = l.at.Add(time.Minute)
	data, meta, err := event.Encode(e, event.Metadata{EventID: uuid.New(), Actor: "test", OccurredAt: l.at})
	if err != nil {
		panic(err)
	}
	n := uint64(len(l.records) + 1)
	r := newRecord(&eventstore.RecordedEvent{ID: uuid.New(), Type: e.EventType(), Stream: user.Stream(id), Revision: l.revisions[id],
		Position: eventstore.Position{Commit: n, Prepare: n}, Data: data, Metadata: meta, RecordedAt: l.at})
	l.revisions[id]++
	l.records = append(l.records, r)
	return r
}

// cut makes the events since the last cut a batch.
func (l *userLog) cut() {
	rs := l.records[l.uncut:]
	l.batches = append(l.batches, Batch{Records: rs, Through: rs[len(rs)-1].Position})
	l.uncut = len(l.records)
}

// of is the records of user id's stream.
func (l *userLog) of(id uuid.UUID) []Record {
	var out []Record
	for _, r := range l.records {
		if r.Stream == user.Stream(id) {
			out = append(out, r)
		}
	}
	return out
}

// usersDB is a database with a users build.
type usersDB struct {
	pool   *pgxpool.Pool
	schema string
}

// blockedBehind is a database whose users build has applied the log
// through r, parking r as a dead letter.
func blockedBehind(t *testing.T, r Record) usersDB {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	a, _, err := Ensure(ctx, pool, Users{})
	if err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := park(ctx, tx, Users{}.Name(), r, DeadParked, "refused", MaxAttempts); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO projection_checkpoints (name, commit_pos, prepare_pos) VALUES ($1, $2, $3)`,
			a.Schema, int64(r.Position.Commit), int64(r.Position.Prepare))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return usersDB{pool, a.Schema}
}

// outcome is what the users projector made: its tables, its dead letters
// (but when they were parked) and its checkpoint, as text.
func (db usersDB) outcome(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, table := range (Users{}).Tables() {
		out = append(out, dump(t, db.pool, db.schema, table)...)
	}
	out = append(out, texts(t, db.pool, db.schema, `
		SELECT concat_ws(' ', id, projector, event_id, stream, commit_pos, prepare_pos, event_type, md5(data), md5(metadata),
		                 revision, recorded_at, status, error, attempts)
		  FROM projection_dead_letters ORDER BY id`)...)
	return append(out, texts(t, db.pool, db.schema, `SELECT commit_pos || '-' || prepare_pos FROM projection_checkpoints WHERE name = current_schema()`)...)
}

func sorted(ids ...uuid.UUID) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id.String())
	}
	slices.Sort(out)
	return out
}

// An event parked is logged, with its projector, type, stream and
// position; one that only waits behind it is not.
func TestLogParked_logs_each_event_parked(t *testing.T) {
	var out bytes.Buffer
	parked, waiting := Record{ID: uuid.New(), Type: "user.invited", Stream: "user-a", Pos: "9-1"}, Record{ID: uuid.New(), Type: "user.roles_changed", Stream: "user-a", Pos: "9-2"}
	logParked(slog.New(slog.NewTextHandler(&out, nil)), "users", []Record{parked, waiting},
		map[uuid.UUID]error{parked.ID: errors.New("parked as a dead letter: check constraint"), waiting.ID: errWaitingBehind})
	logged := out.String()
	if strings.Count(logged, "\n") != 1 || !strings.Contains(logged, "projector=users") || !strings.Contains(logged, "stream=user-a") ||
		!strings.Contains(logged, "position=9-1") || !strings.Contains(logged, "check constraint") {
		t.Fatalf("logged:\n%s\nwant one line for the parked event", logged)
	}
	logParked(nil, "users", []Record{parked}, map[uuid.UUID]error{parked.ID: errors.New("x")}) // no logger: nothing, no panic
}

// A release whose projector is of another version than the active build
// leaves its dead letters alone: a retry, or the events a skip releases,
// would be applied by code that writes another version's rows.
func TestResolve_refuses_a_release_of_another_version(t *testing.T) {
	ctx := context.Background()
	var l userLog
	db := blockedBehind(t, l.invited(uuid.New()))
	var id int64
	if err := db.pool.QueryRow(ctx, `SELECT id FROM projection_dead_letters WHERE status = 'parked'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, res := range []Resolution{{ID: id, By: "op"}, {ID: id, Skip: true, By: "op", Reason: "test"}} {
		if _, err := Resolve(ctx, db.pool, otherVersion{}, res); !errors.Is(err, ErrOtherRelease) {
			t.Fatalf("skip %v by a release of another version: %v, want ErrOtherRelease", res.Skip, err)
		}
	}
	if parked := texts(t, db.pool, db.schema, `SELECT status FROM projection_dead_letters`); len(parked) != 1 || parked[0] != "parked" {
		t.Fatalf("dead letters %v, want the one still parked", parked)
	}
	if _, err := Resolve(ctx, db.pool, Users{}, Resolution{ID: id, Skip: true, By: "op", Reason: "test"}); err != nil {
		t.Fatalf("the release of the build's version: %v", err)
	}
}

// A letter waiting behind a parked one is resolved with that one: retried
// or skipped on its own, it was answered as though it did not exist.
func TestResolve_of_a_waiting_letter_names_the_parked_one(t *testing.T) {
	ctx := context.Background()
	db, parkedID, waitingID := parkedAndWaiting(t)
	for _, res := range []Resolution{{ID: waitingID, By: "op"}, {ID: waitingID, Skip: true, By: "op", Reason: "test"}} {
		_, err := Resolve(ctx, db.pool, Users{}, res)
		if !errors.Is(err, ErrWaiting) || !strings.Contains(err.Error(), fmt.Sprintf("behind dead letter %d", parkedID)) {
			t.Fatalf("resolving the waiting letter (skip %v): %v, want ErrWaiting naming letter %d", res.Skip, err, parkedID)
		}
	}
	if _, err := Resolve(ctx, db.pool, Users{}, Resolution{ID: 99999, By: "op"}); !errors.Is(err, ErrNotParked) {
		t.Fatalf("no such letter: %v, want ErrNotParked", err)
	}
}

// A resolve whose waiting event fails in its turn parks it and says so:
// it reported only what it applied, as though the stream flowed again.
func TestResolve_says_which_waiting_event_it_parked(t *testing.T) {
	ctx := context.Background()
	db, parkedID, waitingID := parkedAndWaiting(t)
	// The resend cannot be written: its invitation_count would be 2.
	if _, err := db.pool.Exec(ctx, `ALTER TABLE `+pgx.Identifier{db.schema, "rm_users"}.Sanitize()+` ADD CHECK (invitation_count <= 1)`); err != nil {
		t.Fatal(err)
	}
	done, err := Resolve(ctx, db.pool, Users{}, Resolution{ID: parkedID, By: "op"})
	if err != nil || done.Applied != 1 || done.Parked != waitingID {
		t.Fatalf("resolve: %+v, %v; want 1 applied and letter %d parked", done, err, waitingID)
	}
}

// parkedAndWaiting is a users build with a user's invitation parked and
// the resend behind it waiting, and the ids of both letters.
func parkedAndWaiting(t *testing.T) (db usersDB, parkedID, waitingID int64) {
	t.Helper()
	ctx := context.Background()
	var l userLog
	a := uuid.New()
	parked := l.invited(a)
	l.cut()
	l.resent(a)
	l.cut()
	db = blockedBehind(t, parked)
	if err := Handler(db.pool, Users{}, writtenTypes(Users{}), nil)(l.batches[1].message(ctx)); err != nil {
		t.Fatal(err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT max(id) FILTER (WHERE status = 'parked'), max(id) FILTER (WHERE status = 'waiting') FROM projection_dead_letters`).
		Scan(&parkedID, &waitingID); err != nil {
		t.Fatal(err)
	}
	return db, parkedID, waitingID
}
