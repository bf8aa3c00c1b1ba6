package personal

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// noQueries is a key store that must not be asked.
type noQueries struct{ t *testing.T }

func (n noQueries) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	n.t.Error("asked the database")
	return pgconn.CommandTag{}, errors.New("no queries")
}
func (n noQueries) QueryRow(context.Context, string, ...any) pgx.Row {
	n.t.Error("asked the database")
	return nil
}
func (n noQueries) Query(context.Context, string, ...any) (pgx.Rows, error) {
	n.t.Error("asked the database")
	return nil, errors.New("no queries")
}

// Recent opens what this process sealed, without asking the database,
// until the person is erased or recentFor has passed.
func TestRecent_opens_what_was_just_sealed_until_erased_or_old(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	recent := NewRecent()
	recent.now = func() time.Time { return now }
	keys := Keys{DB: pgtest.Pool(t), Recent: recent}
	seal := func() (user.Invited, []byte, []byte) {
		t.Helper()
		e := user.Invited{UserID: uuid.New(), AccountID: uuid.New(), Email: "r" + uuid.NewString()[:6] + "@example.com", FirstName: "R", LastName: "S"}
		data, meta, _, err := event.EncodeAtWith(e, user.Stream(e.UserID), 0, event.Metadata{EventID: uuid.New()}, keys.Sealer(ctx))
		if err != nil {
			t.Fatal(err)
		}
		return e, data, meta
	}
	opens := func(e user.Invited, data, meta []byte) bool {
		t.Helper()
		open, ok := recent.OpenerFor(ctx, noQueries{t}, []uuid.UUID{e.UserID})
		if !ok {
			return false
		}
		got, _, err := event.DecodeWith(e.EventType(), data, meta, open)
		if err != nil || got.(user.Invited).Email != e.Email {
			t.Fatalf("opened %+v, %v; want %s", got, err, e.Email)
		}
		return true
	}

	kept, data, meta := seal()
	if !opens(kept, data, meta) {
		t.Fatal("the key just sealed with is not held")
	}
	if _, ok := recent.OpenerFor(ctx, noQueries{t}, []uuid.UUID{kept.UserID, uuid.New()}); ok {
		t.Fatal("opened for a person whose key it does not hold")
	}

	erased, data2, meta2 := seal()
	if _, err := keys.Erase(ctx, erased.UserID, user.Stream(erased.UserID), "nora", "asked"); err != nil {
		t.Fatal(err)
	}
	if opens(erased, data2, meta2) {
		t.Fatal("an erased person's key is still held")
	}

	now = now.Add(recentFor)
	if opens(kept, data, meta) {
		t.Fatalf("a key sealed with %v ago is still held", recentFor)
	}
}

// However fast commands seal, Recent holds recentMax keys at most,
// letting the oldest go first.
func TestRecent_holds_a_bounded_number_of_keys(t *testing.T) {
	recent := NewRecent()
	ids := make([]uuid.UUID, recentMax+1)
	for i := range ids {
		ids[i] = uuid.New()
		recent.remember(ids[i], make([]byte, 32))
	}
	if len(recent.keys) != recentMax || len(recent.order) != recentMax {
		t.Fatalf("holds %d keys in an order of %d, want %d", len(recent.keys), len(recent.order), recentMax)
	}
	if _, ok := recent.keys[ids[0]]; ok {
		t.Fatal("the oldest key was kept")
	}
	if _, ok := recent.keys[ids[recentMax]]; !ok {
		t.Fatal("the newest key was let go")
	}
}
