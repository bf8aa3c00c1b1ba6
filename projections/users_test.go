package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// Users folds a batch's events of one user into one write: the read model
// must end as it does when each event is applied on its own, for any mix
// of events and any cut of the log into batches.
func TestUsers_a_folded_batch_writes_what_one_event_at_a_time_writes(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	one, _, err := Ensure(ctx, pool, Users{})
	if err != nil {
		t.Fatal(err)
	}
	folded := "users_folded"
	besideBuild(t, pool, Users{}, folded)

	rng := rand.New(rand.NewPCG(7, 11))
	envs := randomUserEvents(rng, 400)
	for i := range envs {
		applyUsers(t, pool, one.Schema, envs[i:i+1], false)
	}
	for rest := envs; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(60))
		applyUsers(t, pool, folded, rest[:n], true)
		rest = rest[n:]
	}
	for _, table := range (Users{}).Tables() {
		a, b := dump(t, pool, one.Schema, table), dump(t, pool, folded, table)
		if !slices.Equal(a, b) {
			t.Errorf("%s: %d rows one at a time, %d folded; first differences:\n%v\n%v", table, len(a), len(b), firstDiff(a, b), firstDiff(b, a))
		}
		if len(a) == 0 {
			t.Errorf("%s is empty: the events wrote nothing", table)
		}
	}
	for _, schema := range []string{one.Schema, folded} {
		kept, counted := dump(t, pool, schema, "rm_user_counts"), countUsers(t, pool, schema)
		if !slices.Equal(kept, counted) {
			t.Errorf("%s: rm_user_counts has %d rows, rm_users counts to %d; first differences:\n%v\n%v",
				schema, len(kept), len(counted), firstDiff(kept, counted), firstDiff(counted, kept))
		}
	}
}

// countUsers is what rm_user_counts should hold, counted in rm_users, as
// dump prints its rows.
func countUsers(t *testing.T, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	return texts(t, pool, schema, `
		SELECT x::text FROM (
		  SELECT account_id, status, CASE WHEN status <> 'pending' THEN 'infinity' WHEN invitation_expiry_recorded THEN '-infinity'
		         ELSE date_trunc('hour', invitation_expires_at, 'UTC') END AS expires_hour,
		         count(*) AS n
		    FROM rm_users GROUP BY 1, 2, 3) x ORDER BY 1`)
}

// randomUserEvents is a log of accounts and users living through every
// event the users projector reads, in a random interleaving.
func randomUserEvents(rng *rand.Rand, n int) []event.Envelope {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	accounts := []uuid.UUID{uuid.New(), uuid.New()}
	var users []uuid.UUID
	var envs []event.Envelope
	add := func(e event.Event) {
		at = at.Add(time.Minute)
		envs = append(envs, event.Envelope{Metadata: event.Metadata{EventID: uuid.New(), Actor: "test", OccurredAt: at},
			Position: fmt.Sprintf("%d-%d", len(envs)+1, len(envs)+1), Event: e})
	}
	for _, a := range accounts {
		add(account.Registered{AccountID: a, Name: "Account " + a.String()[:4], AgreementNumber: "A1", PurchaseAccountNumber: "P1"})
	}
	roles := []user.Role{user.AccountViewer, user.AccountAdministrator, user.AccountManager}
	for len(envs) < n {
		a := accounts[rng.IntN(len(accounts))]
		if len(users) == 0 || rng.IntN(4) == 0 {
			id := uuid.New()
			users = append(users, id)
			add(user.Invited{UserID: id, AccountID: a, Email: fmt.Sprintf("U%d@Example.com", len(users)), FirstName: "Ann", LastName: fmt.Sprint(len(users)),
				Language: "en", Country: "US", Roles: roles[:1+rng.IntN(2)], InvitationID: uuid.New(), InvitedBy: "admin", SentAt: at, ExpiresAt: at.Add(72 * time.Hour)})
			continue
		}
		id := users[rng.IntN(len(users))]
		switch rng.IntN(8) {
		case 0, 1:
			add(user.InvitationResent{UserID: id, AccountID: a, InvitationID: uuid.New(), ResentBy: "admin", SentAt: at, ExpiresAt: at.Add(96 * time.Hour)})
		case 2:
			add(user.InvitationAccepted{UserID: id, AccountID: a, AcceptedAt: at})
		case 3:
			add(user.InvitationExpired{UserID: id, AccountID: a, ExpiredAt: at})
		case 4:
			add(user.RolesChanged{UserID: id, AccountID: a, Roles: roles[rng.IntN(2):], ChangedBy: "admin", ChangedAt: at})
		case 5:
			add(user.EmailChanged{UserID: id, AccountID: a, Email: fmt.Sprintf("New%d@Example.com", rng.IntN(1000))})
		case 6:
			add(user.PersonalDataErased{UserID: id, AccountID: a, ErasedBy: "op", ErasedAt: at})
		case 7:
			add(account.DomainAdded{AccountID: a, Domain: fmt.Sprintf("d%d.example", rng.IntN(3))})
		}
	}
	return envs
}

func applyUsers(t *testing.T, pool *pgxpool.Pool, schema string, envs []event.Envelope, all bool) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := setSchema(ctx, tx, schema); err != nil {
			return err
		}
		q := &pgx.Batch{}
		if all {
			Users{}.ApplyAll(q, envs)
		} else {
			Users{}.Apply(q, envs[0])
		}
		if all {
			return sendWrites(ctx, tx.Conn(), &pgx.Batch{}, planWrites(q), &pgx.Batch{})
		}
		return tx.SendBatch(ctx, q).Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dump is a table's rows as text, sorted.
func dump(t *testing.T, pool *pgxpool.Pool, schema, table string) []string {
	t.Helper()
	return texts(t, pool, schema, `SELECT x::text FROM `+pgx.Identifier{table}.Sanitize()+` x ORDER BY 1`)
}

// texts runs a query of one text column in a build's schema.
func texts(t *testing.T, pool *pgxpool.Pool, schema, query string) []string {
	t.Helper()
	var rows []string
	err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		if err := setSchema(context.Background(), tx, schema); err != nil {
			return err
		}
		r, err := tx.Query(context.Background(), query)
		if err != nil {
			return err
		}
		rows, err = pgx.CollectRows(r, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func firstDiff(a, b []string) []string {
	var out []string
	for _, r := range a {
		if !slices.Contains(b, r) && len(out) < 3 {
			out = append(out, r)
		}
	}
	return out
}

// besideBuild makes schema with p's tables, beside the live build: a
// second read model for a test to compare with it.
func besideBuild(t *testing.T, pool *pgxpool.Pool, p interface{ Schema() string }, schema string) {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := setSchema(ctx, tx, schema); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, p.Schema())
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
