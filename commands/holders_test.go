package commands_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/user"
)

// The remembered holder of an actor's email is checked against the user's
// stream: once that user leaves the email and another person takes it, a
// command with the email acts as the new holder, with their roles.
func TestActor_is_whoever_holds_the_email_now_though_another_held_it_before(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	operator := commands.Actor{Subject: "op", Operator: true}
	actor := commands.Actor{Subject: "who", Email: "next@fabrikam.example"}
	profile := user.Profile{Email: actor.Email, FirstName: "Ne", LastName: "Xt", Language: "en", Country: "US"}
	designated, err := commands.DesignateManagerHandler(f.deps).Handle(ctx, commands.DesignateManager{By: operator, AccountID: f.account, Manager: profile})
	if err != nil {
		t.Fatal(err)
	}
	// The new manager has not accepted: acting with the email is refused,
	// and their user is now the remembered holder.
	if _, err := f.invite(actor, "x@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a pending manager inviting: want not found, got %v", err)
	}
	if _, err := commands.ChangeManagerEmailHandler(f.deps).Handle(ctx, commands.ChangeManagerEmail{By: operator, AccountID: f.account, Email: "elsewhere@fabrikam.example"}); err != nil {
		t.Fatal(err)
	}
	taken, err := f.invite(f.admin, actor.Email, "user_administrator")
	if err != nil {
		t.Fatal(err)
	}
	if taken.UserID == designated.ManagerUserID {
		t.Fatal("the email's new user is the manager")
	}
	f.accept(t, taken.UserID)
	if _, err := f.invite(actor, "x@fabrikam.example", "account_viewer"); err != nil {
		t.Fatalf("the email's new holder, an active user administrator, inviting: %v", err)
	}
	if _, err := f.invite(actor, "y@fabrikam.example", "account_administrator"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a user administrator granting account administrator: want forbidden, got %v", err)
	}
}

// A remembered actor is folded on with what their stream got since: a
// change of roles, an erasure.
func TestActor_remembered_is_judged_by_the_events_since(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ua := commands.Actor{Subject: "ua", Email: "ua@fabrikam.example"}
	res, err := f.invite(f.admin, ua.Email, "user_administrator")
	if err != nil {
		t.Fatal(err)
	}
	f.accept(t, res.UserID)
	if _, err := f.invite(ua, "one@fabrikam.example", "account_viewer"); err != nil {
		t.Fatalf("a user administrator inviting: %v", err)
	}
	if _, err := commands.ChangeUserRolesHandler(f.deps).Handle(ctx, commands.ChangeUserRoles{
		By: f.admin, AccountID: f.account, UserID: res.UserID, Roles: []string{"account_viewer"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.invite(ua, "two@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("a former user administrator, now a viewer, inviting: want forbidden, got %v", err)
	}
	if _, err := commands.ChangeUserRolesHandler(f.deps).Handle(ctx, commands.ChangeUserRoles{
		By: f.admin, AccountID: f.account, UserID: res.UserID, Roles: []string{"user_administrator"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.invite(ua, "two@fabrikam.example", "account_viewer"); err != nil {
		t.Fatalf("a user administrator again inviting: %v", err)
	}
	if _, err := commands.ErasePersonalDataHandler(f.deps).Handle(ctx, commands.ErasePersonalData{
		By: commands.Actor{Subject: "op", Operator: true}, AccountID: f.account, UserID: res.UserID, Reason: "verified request 7",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.invite(ua, "three@fabrikam.example", "account_viewer"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("an erased user inviting: want not found, got %v", err)
	}
}
