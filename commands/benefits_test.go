package commands_test

import (
	"context"
	"testing"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
)

// Seed 003: a go-to-market benefit is activated only once the marketing
// contact is assigned. A contact who has since left the partner is no
// contact: activation is refused until another is set.
func TestActivateGoToMarket_refuses_a_marketing_contact_removed_since(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	op := commands.Actor{Subject: "op", Operator: true}
	reg, err := commands.RegisterPartnerHandler(f.deps).Handle(ctx, commands.RegisterPartner{By: op, Name: "Alpha",
		Admin: partner.Person{Email: "ga@alpha.example", FirstName: "G", LastName: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	admin := commands.Actor{Subject: "ga", Email: "ga@alpha.example"}
	addUser := func(email string) commands.PartnerUserAdded {
		added, err := commands.AddPartnerUserHandler(f.deps).Handle(ctx, commands.AddPartnerUser{By: admin, PartnerID: reg.PartnerID,
			Person: partner.Person{Email: email, FirstName: "B", LastName: "O", Roles: []string{"sales_agent"}}})
		if err != nil {
			t.Fatal(err)
		}
		return added
	}
	bo, jo := addUser("bo@alpha.example"), addUser("jo@alpha.example")
	bought, err := commands.PurchaseBenefitPackageHandler(f.deps).Handle(ctx, commands.PurchaseBenefitPackage{By: admin, PartnerID: reg.PartnerID,
		Order: benefit.Order{Name: "Pack", Price: subscription.Price{Amount: "10", Currency: "USD"},
			Benefits: []benefit.Spec{{Kind: "go_to_market", Name: "Silver core", Quantity: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	target := commands.PackageTarget{By: admin, PartnerID: reg.PartnerID, PackageID: bought.Purchased.PackageID, BenefitID: bought.Purchased.Benefits[0].BenefitID}
	contact := func(added commands.PartnerUserAdded, alternate string) {
		if _, err := commands.SetMarketingContactHandler(f.deps).Handle(ctx, commands.SetMarketingContact{PackageTarget: target, UserID: added.UserID,
			AlternateEmail: alternate, Phone: "+82 2 1234 5678", Language: "ko-KR"}); err != nil {
			t.Fatal(err)
		}
	}
	contact(bo, "bo@mail.example")
	if _, err := commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: admin, PartnerID: reg.PartnerID, UserID: bo.UserID, Remove: true}); err != nil {
		t.Fatal(err)
	}
	activate := commands.ActivateGoToMarketHandler(f.deps)
	if res, err := activate.Handle(ctx, target); !domain.IsRule(err, "marketing-contact-required") {
		t.Fatalf("activating with a removed contact: %v, %v", res.Events, err)
	}
	contact(jo, "jo@mail.example")
	res, err := activate.Handle(ctx, target)
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("activating with a contact who is a user: %v, %v", res.Events, err)
	}
}
