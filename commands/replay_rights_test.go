package commands_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// lostRight is a command sent with an idempotency key by a caller who
// loses the right to send it once it ran.
type lostRight struct {
	name string
	// setup readies the fixture and returns the command (run with ctx)
	// and what takes the caller's right away.
	setup func(t *testing.T, f *fixture) (run func(ctx context.Context) (any, error), lose func() error)
}

// testLostRight runs each command with a key, loses its answer (the
// HTTP layer kept none: its process died), takes the caller's right away,
// and runs the command again with the key: the work was done while the
// caller had the right, so the run again answers as the first run did
// and appends nothing, though a new run is refused.
func testLostRight(t *testing.T, cases []lostRight) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.deps.AccountSerial, f.deps.PartnerSerial = checked("account"), checked("partner")
			run, lose := c.setup(t, f)
			ctx := commands.WithIdempotencyKey(context.Background(), "caller\x00route\x00"+uuid.NewString())
			first, err := run(ctx)
			if err != nil {
				t.Fatalf("the first run: %v", err)
			}
			if err := lose(); err != nil {
				t.Fatalf("taking the caller's right away: %v", err)
			}
			if res, err := run(context.Background()); !errors.Is(err, domain.ErrForbidden) && !errors.Is(err, domain.ErrNotFound) {
				t.Fatalf("a new run, without the key: %+v, %v; want it refused", res, err)
			}
			f.clock.Advance(time.Minute)
			before := countEvents(t, f.deps.Store)
			again, err := run(ctx)
			if err != nil || !reflect.DeepEqual(again, first) {
				t.Fatalf("run again with its key: %+v, %v; want the first run's answer %+v", again, err, first)
			}
			if n := countEvents(t, f.deps.Store) - before; n != 0 {
				t.Fatalf("run again with its key, it appended %d events", n)
			}
		})
	}
}

// ann is an active Account Administrator of the fixture's account, whom
// the manager demotes to account viewer (demote).
func (f *fixture) ann(t *testing.T) (ann commands.Actor, demote func() error) {
	t.Helper()
	inv, err := f.invite(f.admin, "ann@fabrikam.example", "account_administrator")
	if err != nil {
		t.Fatal(err)
	}
	f.accept(t, inv.UserID)
	return commands.Actor{Subject: "ann", Email: "ann@fabrikam.example"}, func() error {
		_, err := commands.ChangeUserRolesHandler(f.deps).Handle(context.Background(), commands.ChangeUserRoles{By: f.admin, AccountID: f.account,
			UserID: inv.UserID, Roles: []string{"account_viewer"}})
		return err
	}
}

// pendingViewer invites an account viewer, who has not accepted.
func (f *fixture) pendingViewer(t *testing.T, email string) uuid.UUID {
	t.Helper()
	inv, err := f.invite(f.admin, email, "account_viewer")
	if err != nil {
		t.Fatal(err)
	}
	return inv.UserID
}

func TestIdempotencyKey_a_users_command_run_again_after_the_caller_lost_the_right_answers_as_before(t *testing.T) {
	inviting := func(role string) func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
		return func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			ann, demote := f.ann(t)
			return func(ctx context.Context) (any, error) {
				return commands.InviteUserHandler(f.deps).Handle(ctx, commands.InviteUser{By: ann, AccountID: f.account, Profile: user.Profile{
					Email: "new@fabrikam.example", FirstName: "N", LastName: "W", Language: "en", Country: "US", Roles: []string{role}}})
			}, demote
		}
	}
	domains := func(remove bool) func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
		return func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			ann, demote := f.ann(t)
			change := func(ctx context.Context, remove bool) (any, error) {
				return commands.ChangeDomainHandler(f.deps).Handle(ctx, commands.ChangeDomain{By: ann, AccountID: f.account, Domain: "fabrikam.example", Remove: remove})
			}
			if remove {
				if _, err := change(context.Background(), false); err != nil {
					t.Fatal(err)
				}
			}
			return func(ctx context.Context) (any, error) { return change(ctx, remove) }, demote
		}
	}
	testLostRight(t, []lostRight{
		{"invite a viewer", inviting("account_viewer")},
		{"invite an administrator", inviting("account_administrator")},
		{"resend an invitation", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			ann, demote := f.ann(t)
			viewer := f.pendingViewer(t, "again@fabrikam.example")
			return func(ctx context.Context) (any, error) {
				return commands.ResendInvitationHandler(f.deps).Handle(ctx, commands.ResendInvitation{By: ann, AccountID: f.account, UserID: viewer})
			}, demote
		}},
		{"change a user's roles", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			ann, demote := f.ann(t)
			viewer := f.pendingViewer(t, "viewer@fabrikam.example")
			return func(ctx context.Context) (any, error) {
				return commands.ChangeUserRolesHandler(f.deps).Handle(ctx, commands.ChangeUserRoles{By: ann, AccountID: f.account, UserID: viewer,
					Roles: []string{"reports_viewer"}})
			}, demote
		}},
		{"add a domain", domains(false)},
		{"remove a domain", domains(true)},
		{"grant partner visibility", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			ann, demote := f.ann(t)
			alpha, beta := f.servedBy(t, "Alpha"), f.servedBy(t, "Beta")
			return func(ctx context.Context) (any, error) {
				return commands.PartnerVisibilityHandler(f.deps).Handle(ctx, commands.PartnerVisibility{By: ann, AccountID: f.account,
					GranteePartnerID: beta, SourcePartnerID: alpha})
			}, demote
		}},
	})
}

// servedBy registers a partner serving the fixture's account.
func (f *fixture) servedBy(t *testing.T, name string) uuid.UUID {
	t.Helper()
	id, _ := f.partner(t, name)
	if _, err := commands.AssociatePartnerHandler(f.deps).Handle(context.Background(), commands.AssociatePartner{
		By: operator, AccountID: f.account, PartnerID: id}); err != nil {
		t.Fatal(err)
	}
	return id
}

// An invitation of an administrator stopped before its grant, and its
// inviter lost the right to invite: run again with its key, it answers
// and finishes the grant while the invited user holds the role (refused,
// it left the account without the administrator it should list), and
// not once a demotion took the role away (the grant looks at the user's
// roles, in the account's turn).
func TestInviteUser_run_again_after_the_inviter_lost_the_right_finishes_the_grant(t *testing.T) {
	for _, invitedDemoted := range []bool{false, true} {
		t.Run(map[bool]string{false: "the invited user holds the role", true: "the invited user was demoted"}[invitedDemoted], func(t *testing.T) {
			f := newFixture(t)
			f.deps.AccountSerial = checked("account")
			ann, demote := f.ann(t)
			ctx := commands.WithIdempotencyKey(context.Background(), "ann\x00POST /users\x00"+uuid.NewString())
			invite := func(d commands.Deps) (commands.UserInvited, error) {
				return commands.InviteUserHandler(d).Handle(ctx, commands.InviteUser{By: ann, AccountID: f.account, Profile: user.Profile{
					Email: "new@fabrikam.example", FirstName: "N", LastName: "W", Language: "en", Country: "US", Roles: []string{"account_administrator"}}})
			}
			var invited uuid.UUID
			stops := f.deps
			stops.Store = &failAppend{Store: f.deps.Store, at: func(events []eventstore.EventData) bool {
				if events[0].Type == (user.Invited{}).EventType() {
					invited = userOf(t, events[0])
				}
				return events[0].Type == account.AdministratorGranted{}.EventType()
			}}
			if _, err := invite(stops); err == nil {
				t.Fatal("the invitation whose grant did not land answered")
			}
			if err := demote(); err != nil {
				t.Fatal(err)
			}
			if invitedDemoted {
				if _, err := commands.ChangeUserRolesHandler(f.deps).Handle(context.Background(), commands.ChangeUserRoles{By: f.admin, AccountID: f.account,
					UserID: invited, Roles: []string{"account_viewer"}}); err != nil {
					t.Fatal(err)
				}
			}
			res, err := invite(f.deps)
			if err != nil {
				t.Fatalf("run again with its key: %v", err)
			}
			var a account.Account
			fold(t, f, account.Stream(f.account), &a)
			if listed := slices.Contains(a.Administrators(), res.UserID); listed == invitedDemoted {
				t.Fatalf("the account's administrators %v list the invited user %v: %v; the user was demoted: %v", a.Administrators(), res.UserID, listed, invitedDemoted)
			}
		})
	}
}
