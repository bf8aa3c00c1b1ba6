package commands_test

import (
	"context"
	"testing"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/benefit"
)

// Seed 003: a go-to-market benefit is activated only once the marketing
// contact is assigned. A contact who has since left the partner is no
// contact: activation is refused until another is set.
func TestActivateGoToMarket_refuses_a_marketing_contact_removed_since(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	partnerID, admin := f.partner(t, "Alpha")
	bo, jo := f.partnerUser(t, admin, partnerID, "bo@alpha.example"), f.partnerUser(t, admin, partnerID, "jo@alpha.example")
	bought := f.benefitPackage(t, admin, partnerID, benefit.Spec{Kind: "go_to_market", Name: "Silver core", Quantity: 1})
	target := commands.PackageTarget{By: admin, PartnerID: partnerID, PackageID: bought.Purchased.PackageID, BenefitID: bought.Purchased.Benefits[0].BenefitID}
	contact := func(added commands.PartnerUserAdded, alternate string) {
		if _, err := commands.SetMarketingContactHandler(f.deps).Handle(ctx, commands.SetMarketingContact{PackageTarget: target, UserID: added.UserID,
			AlternateEmail: alternate, Phone: "+82 2 1234 5678", Language: "ko-KR"}); err != nil {
			t.Fatal(err)
		}
	}
	contact(bo, "bo@mail.example")
	if _, err := commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: admin, PartnerID: partnerID, UserID: bo.UserID, Remove: true}); err != nil {
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
