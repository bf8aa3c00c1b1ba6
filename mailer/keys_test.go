package mailer_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/personal"
)

// Catching up, one feed batch holds hundreds of invitations, and the
// mailer records them a few emails a transaction. Each transaction fetches
// the keys of the people it is about to mail, not those of the whole rest
// of the batch: that made a long batch's key reads grow with its square.
func TestConsumer_fetches_a_long_batchs_keys_about_once_each(t *testing.T) {
	keys := &keysAsked{}
	h := newHarnessOn(t, pgtest.TracedPool(t, keys))
	accountID := h.register("Fabrikam")
	const n = 8 * mailer.ClaimsPerCommit
	want := map[string]uuid.UUID{}
	for i := range n {
		e := h.inviteSealed(accountID, fmt.Sprintf("person%d@example.kr", i))
		want[e.Email] = e.UserID
	}
	keys.n.Store(0)
	h.start() // the mailer finds every invitation in its first batch
	for _, path := range h.mails(n) {
		to, _, _ := readMail(t, path)
		if _, ok := want[to]; !ok {
			t.Errorf("%s mailed to %q, not one of the people invited", path, to)
		}
		delete(want, to)
	}
	if len(want) != 0 {
		t.Errorf("%d people got no mail", len(want))
	}
	// Before, the transactions asked for 128 + 112 + ... + 16 = 576 keys.
	if got := keys.n.Load(); got < n || got > 2*n {
		t.Errorf("the mailer asked for %d keys of %d sealed invitations, want %d to %d", got, n, n, 2*n)
	}
}

// A transaction that claims few emails (replaying old history, whose
// invitations have expired) gets through far more of its batch than it
// fetched keys for ahead: it fetches the keys of the next records
// together, not one query a person.
func TestConsumer_fetches_keys_ahead_in_few_queries_when_nothing_is_mailed(t *testing.T) {
	keys := &keysAsked{}
	h := newHarnessOn(t, pgtest.TracedPool(t, keys))
	accountID := h.register("Fabrikam")
	const n = 8 * mailer.ClaimsPerCommit
	for i := range n {
		h.inviteSealed(accountID, fmt.Sprintf("person%d@example.kr", i))
	}
	h.clock.Advance(2 * time.Hour) // every invitation has expired
	keys.n.Store(0)
	keys.queries.Store(0)
	h.start()
	h.settle()
	var skipped int
	if err := h.pool.QueryRow(context.Background(), `SELECT count(*) FROM mail_sent WHERE outcome = 'skipped: expired'`).Scan(&skipped); err != nil {
		t.Fatal(err)
	}
	if skipped != n {
		t.Errorf("%d invitations skipped as expired, want %d", skipped, n)
	}
	if got := keys.n.Load(); got < n || got > 2*n {
		t.Errorf("the mailer asked for %d keys of %d sealed invitations, want %d to %d", got, n, n, 2*n)
	}
	// 2*ClaimsPerCommit keys a query: 4 queries (one more should the
	// feed cut the log into two batches).
	if got := keys.queries.Load(); got > 8 {
		t.Errorf("the mailer asked for keys in %d queries for %d sealed invitations, want at most 8", got, n)
	}
}

// inviteSealed appends an invitation whose personal fields are sealed, as
// InviteUser stores them.
func (h *harness) inviteSealed(accountID uuid.UUID, email string) user.Invited {
	h.t.Helper()
	inv, expires := uuid.New(), epoch.Add(time.Hour)
	e := user.Invited{
		UserID: uuid.New(), AccountID: accountID, Email: email, FirstName: "민지", LastName: "김",
		Language: "ko", Country: "KR", Roles: []user.Role{user.ReportsViewer},
		InvitationID: inv, TokenHash: user.HashSecret(user.InvitationSecret(tokenKey, inv)),
		InvitedBy: "system", SentAt: expires.Add(-user.InvitationValidity), ExpiresAt: expires,
	}
	ctx, id, stream := context.Background(), uuid.New(), user.Stream(e.UserID)
	data, meta, _, err := event.EncodeAtWith(e, stream, 0, event.Metadata{EventID: id, Actor: "system", CorrelationID: id.String(), OccurredAt: h.clock.Now()},
		personal.Keys{DB: h.pool}.Sealer(ctx))
	if err != nil {
		h.t.Fatal(err)
	}
	if strings.Contains(string(data), email) {
		h.t.Fatalf("the email is not sealed: %s", data)
	}
	if _, err := h.store.Append(ctx, stream, eventstore.NoStream(), []eventstore.EventData{{ID: id, Type: e.EventType(), Data: data, Metadata: meta}}); err != nil {
		h.t.Fatal(err)
	}
	return e
}

// keysAsked counts the personal keys asked for by subject, and the
// queries that asked.
type keysAsked struct{ n, queries atomic.Int64 }

func (k *keysAsked) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !strings.Contains(d.SQL, "FROM personal_keys WHERE subject_id") || len(d.Args) == 0 {
		return ctx
	}
	k.queries.Add(1)
	switch subjects := d.Args[0].(type) {
	case []uuid.UUID:
		k.n.Add(int64(len(subjects)))
	case uuid.UUID:
		k.n.Add(1)
	}
	return ctx
}

func (k *keysAsked) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
