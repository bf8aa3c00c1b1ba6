package personal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/personal"
)

func encode(t *testing.T, keys personal.Keys, e event.Event, stream string) (data, meta []byte) {
	t.Helper()
	data, meta, hash, err := event.EncodeAtWith(e, stream, 0, event.Metadata{EventID: uuid.New(), Actor: "nora", OccurredAt: time.Now()}, keys.Sealer(context.Background()))
	if err != nil || hash == "" {
		t.Fatalf("encode: %v", err)
	}
	return data, meta
}

func TestKeys_seal_open_and_erase(t *testing.T) {
	ctx := context.Background()
	keys := personal.Keys{DB: pgtest.Pool(t)}
	in := personal.Invitation()
	data, meta := encode(t, keys, in, user.Stream(in.UserID))
	for _, plain := range []string{in.Email, in.FirstName, in.LastName} {
		if strings.Contains(string(data), plain) {
			t.Fatalf("stored JSON holds %q: %s", plain, data)
		}
	}
	if strings.Count(string(data), personal.Prefix) != 3 || !strings.Contains(string(data), `"language":"nl-NL"`) {
		t.Fatalf("stored JSON %s", data)
	}
	// The hash seals the bytes as stored.
	var m event.Metadata
	_, m, _ = event.Decode(in.EventType(), data, meta)
	if event.Hash(user.Stream(in.UserID), 0, in.EventType(), data, m) != m.Hash {
		t.Fatal("hash is not over the stored bytes")
	}

	got, _, err := event.DecodeWith(in.EventType(), data, meta, keys.Opener(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if g := got.(user.Invited); g.Email != in.Email || g.FirstName != in.FirstName || g.LastName != in.LastName || g.Language != "nl-NL" {
		t.Fatalf("round trip %+v", g)
	}

	// Another person's key does not open it, even with the subject swapped.
	other := personal.Invitation()
	encode(t, keys, other, user.Stream(other.UserID))
	swapped := []byte(strings.Replace(string(data), in.UserID.String(), other.UserID.String(), 1))
	if _, _, err := event.DecodeWith(in.EventType(), swapped, meta, keys.Opener(ctx)); err == nil {
		t.Fatal("a field sealed for one person opened for another")
	}

	if e, err := keys.Erase(ctx, in.UserID, "", "op", "verified request"); err != nil || e.By != "op" || e.Reason != "verified request" || !e.Earlier.IsZero() {
		t.Fatalf("erasing: %+v %v", e, err)
	}
	if e, err := keys.Erase(ctx, in.UserID, "", "op2", "again"); err != nil || e.By != "op" || e.Reason != "verified request" || e.Earlier.IsZero() {
		t.Fatalf("erasing again: %+v %v; want the first erasure's who, why and time", e, err)
	}
	got, _, err = event.DecodeWith(in.EventType(), data, meta, keys.Opener(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if g := got.(user.Invited); g.Email != personal.Erased || g.FirstName != personal.Erased || g.LastName != personal.Erased || g.Country != "NL" {
		t.Fatalf("after erasure %+v", g)
	}
	if _, _, _, err := event.EncodeAtWith(in, "x", 0, event.Metadata{}, keys.Sealer(ctx)); err == nil {
		t.Fatal("sealed for an erased person")
	}
	var by, reason string
	if err := keys.DB.QueryRow(ctx, `SELECT erased_by, erased_reason FROM personal_keys WHERE subject_id = $1 AND key IS NULL`, in.UserID).Scan(&by, &reason); err != nil || by != "op" || reason != "verified request" {
		t.Fatalf("erasure record %q %q %v", by, reason, err)
	}

	// The other person is untouched.
	od, om := encode(t, keys, account.Registered{AccountID: uuid.New(), ManagerUserID: other.UserID, ManagerEmail: "m@example.com", Name: "Acme"}, "account-x")
	if strings.Contains(string(od), "m@example.com") || !strings.Contains(string(od), `"name":"Acme"`) {
		t.Fatalf("account.registered stored as %s", od)
	}
	ge, _, err := event.DecodeWith("account.registered", od, om, keys.Opener(ctx))
	if err != nil || ge.(account.Registered).ManagerEmail != "m@example.com" {
		t.Fatalf("manager email %v %v", ge, err)
	}
}

func TestKeys_leave_plain_events_as_they_are(t *testing.T) {
	keys := personal.Keys{DB: pgtest.Pool(t)}
	in := personal.Invitation()
	data, meta, err := event.Encode(in, event.Metadata{EventID: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := event.DecodeWith(in.EventType(), data, meta, keys.Opener(context.Background()))
	if err != nil || got.(user.Invited).Email != in.Email {
		t.Fatalf("an event from before sealing: %v %v", got, err)
	}
}

// SealWith seals as Sealer does, with the key given: the events open with
// that key once it is stored, and SealedSubject names whose key that is.
func TestSealWith_and_SealedSubject(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	e := personal.Invitation()
	key := []byte("0123456789abcdef0123456789abcdef")
	data, meta, _, err := event.EncodeAtWith(e, user.Stream(e.UserID), 0, event.Metadata{EventID: uuid.New()}, personal.SealWith(key))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), e.Email) {
		t.Fatalf("email stored in the clear: %s", data)
	}
	if got, ok := personal.SealedSubject(e.EventType(), data); !ok || got != e.UserID {
		t.Fatalf("SealedSubject: %s %v, want %s", got, ok, e.UserID)
	}
	plain, _, err := event.Encode(e, event.Metadata{EventID: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := personal.SealedSubject(e.EventType(), plain); ok {
		t.Fatal("SealedSubject named a subject for an event with nothing sealed")
	}
	if _, ok := personal.SealedSubject(account.Registered{}.EventType(), data); ok {
		t.Fatal("SealedSubject named a subject for a type without personal fields")
	}

	if _, err := pool.Exec(ctx, `INSERT INTO personal_keys (subject_id, key) VALUES ($1, $2)`, e.UserID, key); err != nil {
		t.Fatal(err)
	}
	open, err := personal.Keys{DB: pool}.OpenerFor(ctx, []uuid.UUID{e.UserID})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := event.DecodeWith(e.EventType(), data, meta, open)
	if err != nil || got.(user.Invited).Email != e.Email || got.(user.Invited).LastName != e.LastName {
		t.Fatalf("opened: %+v, %v", got, err)
	}
}

// One opener opens a batch of several people's events, in any order, each
// with its own person's key (it keeps the cipher of the last person it
// opened for), and an erased person's as erased.
func TestKeys_one_opener_opens_interleaved_people_each_with_their_key(t *testing.T) {
	ctx := context.Background()
	keys := personal.Keys{DB: pgtest.Pool(t)}
	a, b, gone := personal.Invitation(), personal.Invitation(), personal.Invitation()
	a.Email, b.Email, gone.Email = "a@example.com", "b@example.com", "gone@example.com"
	type stored struct {
		in         user.Invited
		data, meta []byte
	}
	var log []stored
	for _, in := range []user.Invited{a, b, b, gone, a, gone, b} {
		data, meta := encode(t, keys, in, user.Stream(in.UserID))
		log = append(log, stored{in, data, meta})
	}
	if _, err := keys.Erase(ctx, gone.UserID, "", "op", "request"); err != nil {
		t.Fatal(err)
	}
	open, err := keys.OpenerFor(ctx, []uuid.UUID{a.UserID, b.UserID, gone.UserID})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range log {
		got, _, err := event.DecodeWith(s.in.EventType(), s.data, s.meta, open)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		want := s.in.Email
		if s.in.UserID == gone.UserID {
			want = personal.Erased
		}
		if g := got.(user.Invited); g.Email != want || g.UserID != s.in.UserID {
			t.Errorf("event %d opened to %s of %s, want %s", i, g.Email, g.UserID, want)
		}
	}
}

// With FlushedByAppends a new key's insert turns synchronous_commit off
// for its own transaction (the append after it flushes the WAL through
// it), and seals and opens as any key does; without it, the setting is
// left as it was.
func TestKeys_FlushedByAppends_commits_a_new_key_unflushed(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	for _, unflushed := range []bool{false, true} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
			t.Fatal(err)
		}
		in := personal.Invitation()
		encode(t, personal.Keys{DB: tx, FlushedByAppends: unflushed}, in, user.Stream(in.UserID))
		var setting string
		if err := tx.QueryRow(ctx, `SELECT current_setting('synchronous_commit')`).Scan(&setting); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]string{false: "on", true: "off"}[unflushed]; setting != want {
			t.Errorf("FlushedByAppends %v: synchronous_commit %s after a new key, want %s", unflushed, setting, want)
		}
		_ = tx.Rollback(ctx)
	}

	keys := personal.Keys{DB: pool, FlushedByAppends: true}
	in := personal.Invitation()
	first, meta := encode(t, keys, in, user.Stream(in.UserID))
	again, _ := encode(t, keys, in, user.Stream(in.UserID)) // the key stored
	for _, data := range [][]byte{first, again} {
		got, _, err := event.DecodeWith(in.EventType(), data, meta, personal.Keys{DB: pool}.Opener(ctx))
		if err != nil || got.(user.Invited).Email != in.Email {
			t.Fatalf("opened %+v, %v; want %s", got, err, in.Email)
		}
	}
}
