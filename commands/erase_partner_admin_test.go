package commands_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/partner"
)

func (f *fixture) erasePartnerUser(partnerID, userID uuid.UUID) error {
	_, err := commands.ErasePartnerUserPersonalDataHandler(f.deps).Handle(context.Background(), commands.ErasePartnerUserPersonalData{
		By: operator, PartnerID: partnerID, UserID: userID, Reason: "verified request DSR-3"})
	return err
}

// A partner's last global admin is not erased, as they may not be
// removed; once erased, a global admin is not the one that remains.
func TestErasePartnerUser_keeps_the_last_global_admin(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	reg, err := commands.RegisterPartnerHandler(f.deps).Handle(ctx, commands.RegisterPartner{
		By: operator, Name: "Litware", Admin: partner.Person{Email: "ga@litware.example", FirstName: "G", LastName: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.erasePartnerUser(reg.PartnerID, reg.AdminUserID); !domain.IsRule(err, "last-global-admin") {
		t.Fatalf("erasing the only global admin: want last-global-admin, got %v", err)
	}
	if f.keyErased(t, reg.AdminUserID) {
		t.Fatal("the refused erasure destroyed the key")
	}
	second, err := commands.AddPartnerUserHandler(f.deps).Handle(ctx, commands.AddPartnerUser{By: operator, PartnerID: reg.PartnerID,
		Person: partner.Person{Email: "ga2@litware.example", FirstName: "G", LastName: "B", Roles: []string{"global_admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.erasePartnerUser(reg.PartnerID, reg.AdminUserID); err != nil {
		t.Fatalf("erasing a global admin while another remains: %v", err)
	}
	_, err = commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: operator, PartnerID: reg.PartnerID,
		UserID: second.UserID, Roles: []string{"sales_agent"}})
	if !domain.IsRule(err, "last-global-admin") {
		t.Fatalf("demoting the last global admin beside an erased one: want last-global-admin, got %v", err)
	}
	_, err = commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: operator, PartnerID: reg.PartnerID,
		UserID: second.UserID, Remove: true})
	if !domain.IsRule(err, "last-global-admin") {
		t.Fatalf("removing the last global admin beside an erased one: want last-global-admin, got %v", err)
	}
	// The erased one acts for nobody: it is not the last, and goes.
	if _, err := commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: operator, PartnerID: reg.PartnerID,
		UserID: reg.AdminUserID, Remove: true}); err != nil {
		t.Fatalf("removing the erased global admin while another acts: %v", err)
	}
}

// An erased partner user acts as nobody: giving them a role (global
// admin, say) gives nobody anything, yet listed an "[erased]" global
// admin among the partner's users and told every consumer about a person
// it had been told to forget, as an erased customer user's new role did.
// It is refused (user-erased); taking roles away still goes ahead.
func TestChangePartnerUser_gives_an_erased_user_no_role(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	partnerID, admin := f.partner(t, "Litware")
	gone := f.partnerUser(t, admin, partnerID, "gone@litware.example")
	change := func(roles ...string) error {
		_, err := commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{
			By: admin, PartnerID: partnerID, UserID: gone.UserID, Roles: roles})
		return err
	}
	if err := change("sales_agent", "helpdesk_agent"); err != nil {
		t.Fatal(err)
	}
	if err := f.erasePartnerUser(partnerID, gone.UserID); err != nil {
		t.Fatal(err)
	}
	if err := change("global_admin", "sales_agent"); !domain.IsRule(err, "user-erased") {
		t.Fatalf("making an erased partner user global admin: want user-erased, got %v", err)
	}
	if err := change("sales_agent", "admin_agent"); !domain.IsRule(err, "user-erased") {
		t.Fatalf("swapping in a role for an erased partner user: want user-erased, got %v", err)
	}
	if err := change("sales_agent"); err != nil {
		t.Fatalf("taking a role from an erased partner user: %v", err)
	}
}
