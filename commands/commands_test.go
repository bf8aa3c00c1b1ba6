package commands_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/personal"
)

var key = []byte("command test invitation key")

type fixture struct {
	deps    commands.Deps
	clock   *clock.Manual
	account uuid.UUID
	manager uuid.UUID // the manager registered with it, its first Account Administrator
	admin   commands.Actor
}

// newFixture registers an account whose manager accepted, on a fresh
// PostgreSQL store.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	pool := pgtest.Pool(t)
	f := &fixture{
		deps: commands.Deps{Store: postgres.New(pool, postgres.Config{}), Clock: clk, TokenKey: key,
			Personal: personal.Keys{DB: pool}, Holders: commands.NewHolders()},
		clock: clk,
		admin: commands.Actor{Subject: "admin-1", Email: "boss@fabrikam.example"},
	}
	reg, err := commands.RegisterAccountHandler(f.deps).Handle(context.Background(), commands.RegisterAccount{
		By: commands.Actor{Subject: "op", Operator: true}, Name: "Fabrikam", AgreementNumber: "AG-1", PurchaseAccountNumber: "PA-1",
		Manager: user.Profile{Email: "Boss@Fabrikam.example", FirstName: "Bo", LastName: "Ss", Language: "en", Country: "US"},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.account, f.manager = reg.AccountID, reg.ManagerUserID
	f.accept(t, reg.ManagerUserID)
	return f
}

// token derives a user's current token from the stream, as the mailer does.
func (f *fixture) token(t *testing.T, id uuid.UUID) string {
	t.Helper()
	recs, err := f.deps.Store.ReadStream(context.Background(), user.Stream(id), eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var inv uuid.UUID
	for _, r := range recs {
		e, _, _ := event.Decode(r.Type, r.Data, r.Metadata)
		switch e := e.(type) {
		case user.Invited:
			inv = e.InvitationID
		case user.InvitationResent:
			inv = e.InvitationID
		}
	}
	return user.FormatToken(id, user.InvitationSecret(key, inv))
}

func (f *fixture) accept(t *testing.T, id uuid.UUID) commands.InvitationAccepted {
	t.Helper()
	res, err := commands.AcceptInvitationHandler(f.deps).Handle(context.Background(), commands.AcceptInvitation{Token: f.token(t, id)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// member invites and accepts subject@fabrikam.example with a role in the
// fixture's account, and returns them as an actor.
func (f *fixture) member(t *testing.T, subject, role string) (commands.Actor, commands.UserInvited) {
	t.Helper()
	a := commands.Actor{Subject: subject, Email: subject + "@fabrikam.example"}
	res, err := f.invite(f.admin, a.Email, role)
	if err != nil {
		t.Fatal(err)
	}
	f.accept(t, res.UserID)
	return a, res
}

// userAdministrator is ua@fabrikam.example, a User Administrator of the
// fixture's account.
func (f *fixture) userAdministrator(t *testing.T) (commands.Actor, commands.UserInvited) {
	t.Helper()
	return f.member(t, "ua", "user_administrator")
}

func (f *fixture) invite(by commands.Actor, email string, roles ...string) (commands.UserInvited, error) {
	return commands.InviteUserHandler(f.deps).Handle(context.Background(), commands.InviteUser{
		By: by, AccountID: f.account,
		Profile: user.Profile{Email: email, FirstName: "A", LastName: "B", Language: "en", Country: "US", Roles: roles},
	})
}

func TestInviteUser_twenty_concurrent_invites_of_one_address_give_one_success(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	results := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Case and spacing differ: uniqueness is on the normalized email.
			_, err := f.invite(f.admin, fmt.Sprintf("%sSam@Fabrikam.example ", []string{"", " "}[i%2]), "account_viewer")
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok, conflicts := 0, 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, domain.ErrConflict):
			conflicts++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || conflicts != 19 {
		t.Fatalf("%d successes and %d conflicts, want 1 and 19", ok, conflicts)
	}
}

func TestInviteUser_refuses_a_duplicate_email(t *testing.T) {
	f := newFixture(t)
	if _, err := f.invite(f.admin, "kim@fabrikam.example", "account_viewer"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.invite(f.admin, "KIM@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("want conflict, got %v", err)
	}
}

func TestInviteUser_needs_an_active_administrator(t *testing.T) {
	f := newFixture(t)
	viewer := commands.Actor{Subject: "v", Email: "viewer@fabrikam.example"}
	res, err := f.invite(f.admin, viewer.Email, "account_viewer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.invite(viewer, "x@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a pending user inviting: want not found, got %v", err)
	}
	f.accept(t, res.UserID)
	if _, err := f.invite(viewer, "x@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a viewer inviting: want forbidden, got %v", err)
	}
	stranger := commands.Actor{Subject: "s", Email: "someone@elsewhere.example"}
	if _, err := f.invite(stranger, "x@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a stranger inviting: want not found, got %v", err)
	}
}

func TestInviteUser_user_administrator_cannot_grant_account_administrator(t *testing.T) {
	f := newFixture(t)
	ua, _ := f.userAdministrator(t)
	if _, err := f.invite(ua, "new@fabrikam.example", "account_administrator"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("want forbidden, got %v", err)
	}
	if _, err := f.invite(ua, "new@fabrikam.example", "reports_viewer"); err != nil {
		t.Fatalf("granting reports_viewer: %v", err)
	}
}

func TestAcceptInvitation_expires_after_sixty_days_and_resend_renews(t *testing.T) {
	f := newFixture(t)
	res, err := f.invite(f.admin, "late@fabrikam.example", "account_viewer")
	if err != nil {
		t.Fatal(err)
	}
	old := f.token(t, res.UserID)
	f.clock.Advance(60 * 24 * time.Hour)
	_, err = commands.AcceptInvitationHandler(f.deps).Handle(context.Background(), commands.AcceptInvitation{Token: old})
	if !domain.IsRule(err, "invitation-expired") {
		t.Fatalf("want invitation-expired, got %v", err)
	}
	resent, err := commands.ResendInvitationHandler(f.deps).Handle(context.Background(), commands.ResendInvitation{By: f.admin, AccountID: f.account, UserID: res.UserID})
	if err != nil {
		t.Fatal(err)
	}
	if !resent.ExpiresAt.Equal(f.clock.Now().Add(user.InvitationValidity)) {
		t.Fatalf("resent invitation expires %v", resent.ExpiresAt)
	}
	first := f.accept(t, res.UserID)
	again := f.accept(t, res.UserID)
	if again.Position != first.Position {
		t.Fatalf("a repeated accept appended: %v then %v", first.Position, again.Position)
	}
	_, err = commands.ResendInvitationHandler(f.deps).Handle(context.Background(), commands.ResendInvitation{By: f.admin, AccountID: f.account, UserID: res.UserID})
	if !domain.IsRule(err, "user-already-active") {
		t.Fatalf("resend to an active user: %v", err)
	}
}

func TestRegisterAccount_refuses_a_registered_agreement_and_non_operators(t *testing.T) {
	f := newFixture(t)
	h := commands.RegisterAccountHandler(f.deps)
	cmd := commands.RegisterAccount{
		By: commands.Actor{Subject: "op", Operator: true}, Name: "Other", AgreementNumber: "AG-1", PurchaseAccountNumber: "PA-1",
		Manager: user.Profile{Email: "x@other.example", FirstName: "X", LastName: "Y", Language: "en", Country: "US"},
	}
	if _, err := h.Handle(context.Background(), cmd); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("want conflict, got %v", err)
	}
	cmd.By.Operator = false
	cmd.PurchaseAccountNumber = "PA-2"
	if _, err := h.Handle(context.Background(), cmd); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("want forbidden, got %v", err)
	}
}

func TestRegisterAccount_reports_manager_fields(t *testing.T) {
	f := newFixture(t)
	_, err := commands.RegisterAccountHandler(f.deps).Handle(context.Background(), commands.RegisterAccount{
		By: commands.Actor{Subject: "op", Operator: true}, AgreementNumber: "bad number!", PurchaseAccountNumber: "P",
		Manager: user.Profile{Email: "nope"},
	})
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("want validation error, got %v", err)
	}
	fields := map[string]bool{}
	for _, fe := range v.Fields {
		fields[fe.Field] = true
	}
	for _, want := range []string{"name", "agreementNumber", "manager.email", "manager.firstName", "manager.language", "manager.country"} {
		if !fields[want] {
			t.Errorf("%s not reported in %v", want, v.Fields)
		}
	}
}

// Taking a role away is refused in those words, not as granting it.
func TestChangeUserRoles_refuses_taking_away_a_role_the_actor_may_not_grant(t *testing.T) {
	f := newFixture(t)
	ua, _ := f.userAdministrator(t)
	aa, err := f.invite(f.admin, "aa@fabrikam.example", "account_administrator")
	if err != nil {
		t.Fatal(err)
	}
	f.accept(t, aa.UserID)
	_, err = commands.ChangeUserRolesHandler(f.deps).Handle(context.Background(), commands.ChangeUserRoles{
		By: ua, AccountID: f.account, UserID: aa.UserID, Roles: []string{"account_viewer"}})
	if !errors.Is(err, domain.ErrForbidden) || !strings.Contains(err.Error(), "may not take away account_administrator") {
		t.Fatalf("a user administrator demoting an account administrator: %v", err)
	}
}

func TestResendInvitation_needs_the_right_to_grant_the_invitees_roles(t *testing.T) {
	f := newFixture(t)
	ua, _ := f.userAdministrator(t)
	admin, err := f.invite(f.admin, "second-admin@fabrikam.example", "account_administrator")
	if err != nil {
		t.Fatal(err)
	}
	viewer, err := f.invite(f.admin, "viewer@fabrikam.example", "account_viewer")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(user.InvitationValidity)
	resend := func(by commands.Actor, id uuid.UUID) error {
		_, err := commands.ResendInvitationHandler(f.deps).Handle(context.Background(), commands.ResendInvitation{By: by, AccountID: f.account, UserID: id})
		return err
	}
	// Renewing an expired Account Administrator's invitation invites them
	// again as one: a User Administrator may not.
	if err := resend(ua, admin.UserID); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a user administrator renewing an account administrator's invitation: want forbidden, got %v", err)
	}
	if err := resend(ua, viewer.UserID); err != nil {
		t.Fatalf("a user administrator renewing a viewer's invitation: %v", err)
	}
	if err := resend(f.admin, admin.UserID); err != nil {
		t.Fatalf("an account administrator renewing an account administrator's invitation: %v", err)
	}
}
