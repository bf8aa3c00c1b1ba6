package commands_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// lossy writes every append but loses the answer of the n-th one (from 1),
// as a process that died right after that write would.
type lossy struct {
	eventstore.Store
	n    int32
	seen atomic.Int32
}

var errLost = errors.New("answer lost")

func (l *lossy) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := l.Store.Append(ctx, stream, expected, events)
	if l.seen.Add(1) == l.n && err == nil {
		return eventstore.AppendResult{}, errLost
	}
	return res, err
}

// countEvents counts every stored event exactly. (ReadAll would not do:
// it may hold back the newest events while a transaction of another test
// on the same server is in flight.)
func countEvents(t *testing.T, store eventstore.Store) int {
	t.Helper()
	counter, ok := store.(interface {
		Count(context.Context) (int64, error)
	})
	if !ok {
		t.Fatalf("%T cannot count its events", store)
	}
	n, err := counter.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// keyedCommand runs one command under an idempotency key with the given
// dependencies, and returns its answer.
type keyedCommand func(ctx context.Context, f *fixture, d commands.Deps) (any, error)

func inviteAdmin(ctx context.Context, f *fixture, d commands.Deps) (any, error) {
	return commands.InviteUserHandler(d).Handle(ctx, commands.InviteUser{By: f.admin, AccountID: f.account, Profile: user.Profile{
		Email: "second.admin@fabrikam.example", FirstName: "Se", LastName: "Cond", Language: "en", Country: "US", Roles: []string{"account_administrator"},
	}})
}

func registerAnother(ctx context.Context, _ *fixture, d commands.Deps) (any, error) {
	return commands.RegisterAccountHandler(d).Handle(ctx, commands.RegisterAccount{
		By: commands.Actor{Subject: "op", Operator: true}, Name: "Tailspin", AgreementNumber: "AG-9", PurchaseAccountNumber: "PA-9",
		Manager: user.Profile{Email: "boss@tailspin.example", FirstName: "Ta", LastName: "Il", Language: "en", Country: "US"},
	})
}

// promote makes a fresh user an Account Administrator (a role change and a
// grant), with the set-up outside the key.
func promote(t *testing.T, f *fixture) keyedCommand {
	res, err := f.invite(f.admin, "promoted@fabrikam.example", "account_viewer")
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, f *fixture, d commands.Deps) (any, error) {
		return commands.ChangeUserRolesHandler(d).Handle(ctx, commands.ChangeUserRoles{By: f.admin, AccountID: f.account, UserID: res.UserID, Roles: []string{"account_administrator"}})
	}
}

func resend(t *testing.T, f *fixture) keyedCommand {
	res, err := f.invite(f.admin, "again@fabrikam.example", "account_viewer")
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, f *fixture, d commands.Deps) (any, error) {
		return commands.ResendInvitationHandler(d).Handle(ctx, commands.ResendInvitation{By: f.admin, AccountID: f.account, UserID: res.UserID})
	}
}

// designate makes a new person the manager: a claim, an invitation, the
// former manager's handover, and the account's designation with its grant
// in one append.
func designate(ctx context.Context, f *fixture, d commands.Deps) (any, error) {
	return commands.DesignateManagerHandler(d).Handle(ctx, commands.DesignateManager{By: operator, AccountID: f.account,
		Manager: user.Profile{Email: "kim@fabrikam.example", FirstName: "Kim", LastName: "N", Language: "en", Country: "US"}})
}

// designateUser makes a user of the account the manager: a role change,
// the former manager's handover, and the designation with its grant.
func designateUser(t *testing.T, f *fixture) keyedCommand {
	if _, err := f.invite(f.admin, "viewer@fabrikam.example", "account_viewer"); err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context, f *fixture, d commands.Deps) (any, error) {
		return commands.DesignateManagerHandler(d).Handle(ctx, commands.DesignateManager{By: operator, AccountID: f.account,
			Manager: user.Profile{Email: "viewer@fabrikam.example", FirstName: "Vi", LastName: "Ewer", Language: "en", Country: "US"}})
	}
}

func addDomain(ctx context.Context, f *fixture, d commands.Deps) (any, error) {
	return commands.ChangeDomainHandler(d).Handle(ctx, commands.ChangeDomain{By: f.admin, AccountID: f.account, Domain: "fabrikam.example"})
}

// TestIdempotencyKey_a_retry_after_a_lost_answer_appends_nothing_twice
// loses the answer of each append of a command in turn, then runs the
// command again with the same key: it finishes the work once, answers as a
// clean run would, a third run answers the same, and every chain holds.
func TestIdempotencyKey_a_retry_after_a_lost_answer_appends_nothing_twice(t *testing.T) {
	cases := []struct {
		name    string
		appends int32
		setup   func(t *testing.T, f *fixture) keyedCommand
		events  int // in all, when an append holds more than one
	}{
		{"invite an administrator", 3, func(*testing.T, *fixture) keyedCommand { return inviteAdmin }, 0},
		{"register an account", 4, func(*testing.T, *fixture) keyedCommand { return registerAnother }, 0},
		{"promote to administrator", 2, promote, 0},
		{"resend an invitation", 1, resend, 0},
		{"add a domain", 2, func(*testing.T, *fixture) keyedCommand { return addDomain }, 0},
		{"designate a new manager", 4, func(*testing.T, *fixture) keyedCommand { return designate }, 5},
		{"designate a user of the account", 3, designateUser, 4},
	}
	for _, c := range cases {
		if c.events == 0 {
			c.events = int(c.appends)
		}
		for lost := int32(0); lost <= c.appends; lost++ {
			t.Run(fmt.Sprintf("%s, answer %d of %d lost", c.name, lost, c.appends), func(t *testing.T) {
				f := newFixture(t)
				run := c.setup(t, f)
				before := countEvents(t, f.deps.Store)
				ctx := commands.WithIdempotencyKey(context.Background(), "admin-1\x00test\x00"+uuid.NewString())
				if lost > 0 {
					d := f.deps
					d.Store = &lossy{Store: f.deps.Store, n: lost}
					if _, err := run(ctx, f, d); !errors.Is(err, errLost) {
						t.Fatalf("the run that lost an answer: %v", err)
					}
				}
				f.clock.Advance(time.Minute)
				first, err := run(ctx, f, f.deps)
				if err != nil {
					t.Fatalf("the retry: %v", err)
				}
				if got := countEvents(t, f.deps.Store) - before; got != c.events {
					t.Fatalf("%d events appended in all, want %d", got, c.events)
				}
				f.clock.Advance(time.Minute)
				again, err := run(ctx, f, f.deps)
				if err != nil || !reflect.DeepEqual(again, first) {
					t.Fatalf("a third run: %+v, %v; want %+v", again, err, first)
				}
				if got := countEvents(t, f.deps.Store) - before; got != c.events {
					t.Fatalf("the third run appended: %d events in all", got)
				}
				if broken, err := audit.Verify(context.Background(), f.deps.Store, nil); err != nil || len(broken) > 0 {
					t.Fatalf("chains: %v %v", broken, err)
				}
			})
		}
	}
}

func TestIdempotencyKey_derives_every_id_from_the_key(t *testing.T) {
	f := newFixture(t)
	key := "op\x00POST /v1/accounts\x00k-1"
	h := commands.RegisterAccountHandler(f.deps)
	cmd := func(n string) commands.RegisterAccount {
		return commands.RegisterAccount{
			By: commands.Actor{Subject: "op", Operator: true}, Name: "Tailspin", AgreementNumber: "AG-" + n, PurchaseAccountNumber: "PA-9",
			Manager: user.Profile{Email: "boss@tailspin.example", FirstName: "Ta", LastName: "Il", Language: "en", Country: "US"},
		}
	}
	// Two databases would give the same ids; one database shows the ids
	// follow the key: a new key, new ids; the same key, the same ones.
	a, err := h.Handle(commands.WithIdempotencyKey(context.Background(), key), cmd("1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Handle(commands.WithIdempotencyKey(context.Background(), key+"-other"), cmd("2"))
	if err != nil {
		t.Fatal(err)
	}
	if a.AccountID == b.AccountID || a.ManagerUserID == b.ManagerUserID || a.AccountID.Version() != 5 || a.ManagerUserID.Version() != 5 {
		t.Fatalf("ids %v and %v", a, b)
	}
	again, err := h.Handle(commands.WithIdempotencyKey(context.Background(), key), cmd("1"))
	if err != nil || again != a {
		t.Fatalf("the same key again: %+v, %v; want %+v", again, err, a)
	}
}
