package projections

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/personal"
)

// sealedInvitations are n invitations sealed as commands seal them, with
// their keys stored in pool.
func sealedInvitations(t *testing.T, pool personal.DB, n int) ([]*Record, []user.Invited) {
	t.Helper()
	var records []*Record
	var events []user.Invited
	for i := range n {
		e := user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: "p" + uuid.NewString()[:8] + "@example.com", FirstName: "P", LastName: "Q"}
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if _, err := pool.Exec(context.Background(), `INSERT INTO personal_keys (subject_id, key) VALUES ($1, $2)`, e.UserID, key); err != nil {
			t.Fatal(err)
		}
		data, meta, _, err := event.EncodeAtWith(e, user.Stream(e.UserID), 0, event.Metadata{EventID: uuid.New()}, personal.SealWith(key))
		if err != nil {
			t.Fatal(err)
		}
		r := newRecord(&eventstore.RecordedEvent{ID: uuid.New(), Type: e.EventType(), Stream: user.Stream(e.UserID),
			Position: eventstore.Position{Commit: uint64(i + 1), Prepare: uint64(i + 1)}, Data: data, Metadata: meta})
		records, events = append(records, &r), append(events, e)
	}
	return records, events
}

func TestReadAhead_opens_sealed_records_only_when_enough_come_together(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	refuse := func(string, []byte) ([]byte, error) { return nil, errors.New("opened by the consumer") }

	many, events := sealedInvitations(t, pool, openAheadMin)
	readAhead(ctx, pool, nil, many, nil)
	for i, r := range many {
		env, ok, err := r.Envelope(refuse)
		if err != nil || !ok || env.Event.(user.Invited).Email != events[i].Email {
			t.Fatalf("record %d not opened ahead: %v %v %v", i, env.Event, ok, err)
		}
	}

	few, _ := sealedInvitations(t, pool, openAheadMin-1)
	readAhead(ctx, pool, nil, few, nil)
	if _, _, err := few[0].Envelope(refuse); err == nil {
		t.Fatal("a lone sealed record was opened ahead: live, that adds a round trip")
	}

	// Without keys (a consumer with side effects: the mailer), sealed
	// records are the consumer's to open, in its own transaction.
	mailed, _ := sealedInvitations(t, pool, openAheadMin)
	readAhead(ctx, nil, nil, mailed, nil)
	if mailed[0].ahead != nil {
		t.Fatal("a sealed record was opened ahead for a consumer given no keys")
	}

	// A type the consumer does not decode is passed over: neither decoded
	// nor opened, by the feed or by the consumer, and it needs no key.
	skipped, _ := sealedInvitations(t, pool, openAheadMin)
	readAhead(ctx, pool, nil, skipped, func(string) bool { return false })
	if env, ok, err := skipped[0].Envelope(refuse); ok || err != nil || env.Event != nil {
		t.Fatalf("a record of a type the consumer does not decode: %v %v %v, want it passed over", env.Event, ok, err)
	}
	if !needsNoKey([]Record{*skipped[0]}, eventstore.Start) {
		t.Fatal("a record passed over needs a key")
	}

	// A key query that fails leaves the records to the consumer, rather
	// than freezing an error into them.
	failed, _ := sealedInvitations(t, pool, openAheadMin)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	readAhead(canceled, pool, nil, failed, nil)
	for _, r := range failed {
		if r.ahead != nil {
			t.Fatalf("decoded ahead without its key: %+v", r.ahead)
		}
	}
}

// A lone sealed record whose key this process just sealed with is opened
// ahead, with no query: live, the consumer then needs no key, and its
// batch goes in one round trip (applyOneTrip).
func TestReadAhead_opens_a_lone_record_this_process_just_sealed(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	recent := personal.NewRecent()
	e := user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: "lone@example.com", FirstName: "L", LastName: "O"}
	data, meta, _, err := event.EncodeAtWith(e, user.Stream(e.UserID), 0, event.Metadata{EventID: uuid.New()},
		personal.Keys{DB: pool, Recent: recent}.Sealer(ctx))
	if err != nil {
		t.Fatal(err)
	}
	r := newRecord(&eventstore.RecordedEvent{ID: uuid.New(), Type: e.EventType(), Stream: user.Stream(e.UserID),
		Position: eventstore.Position{Commit: 1, Prepare: 1}, Data: data, Metadata: meta})
	if needsNoKey([]Record{r}, eventstore.Start) {
		t.Fatal("a sealed record not opened ahead needs no key")
	}
	readAhead(ctx, pool, recent, []*Record{&r}, nil)
	env, ok, err := r.Envelope(func(string, []byte) ([]byte, error) { return nil, errors.New("opened by the consumer") })
	if err != nil || !ok || env.Event.(user.Invited).Email != e.Email {
		t.Fatalf("not opened ahead: %v %v %v", env.Event, ok, err)
	}
	if !needsNoKey([]Record{r}, eventstore.Start) {
		t.Fatal("a record opened ahead still needs a key")
	}
}
