package commands_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
)

// jo is a second global admin of a partner, whom its first one removes
// (remove); bo is a sales agent of it.
type jo struct {
	partnerID, boID uuid.UUID
	admin, jo       commands.Actor
	remove          func() error
}

func (f *fixture) jo(t *testing.T) jo {
	t.Helper()
	var j jo
	j.partnerID, j.admin = f.partner(t, "Alpha")
	added, err := commands.AddPartnerUserHandler(f.deps).Handle(context.Background(), commands.AddPartnerUser{By: j.admin, PartnerID: j.partnerID,
		Person: partner.Person{Email: "jo@alpha.example", FirstName: "J", LastName: "O", Roles: []string{"global_admin"}}})
	if err != nil {
		t.Fatal(err)
	}
	j.jo = commands.Actor{Subject: "jo", Email: "jo@alpha.example"}
	j.remove = func() error {
		_, err := commands.ChangePartnerUserHandler(f.deps).Handle(context.Background(), commands.ChangePartnerUser{By: j.admin, PartnerID: j.partnerID,
			UserID: added.UserID, Remove: true})
		return err
	}
	j.boID = f.partnerUser(t, j.admin, j.partnerID, "bo@alpha.example").UserID
	return j
}

// pack is a package of the partner's with a benefit of each kind, bought
// by its first admin; ids names each benefit by kind.
func (j jo) pack(t *testing.T, f *fixture) (benefit.PackagePurchased, map[string]uuid.UUID) {
	t.Helper()
	bought, err := commands.PurchaseBenefitPackageHandler(f.deps).Handle(context.Background(), commands.PurchaseBenefitPackage{By: j.admin, PartnerID: j.partnerID,
		Order: benefit.Order{Name: "Pack", Price: subscription.Price{Amount: "10", Currency: "USD"}, Benefits: []benefit.Spec{
			{Kind: "software", Name: "Windows Server 2025", Quantity: 1},
			{Kind: "cloud", Name: "Azure credits", Quantity: 1, CloudModel: "usage"},
			{Kind: "visual_studio", Name: "Visual Studio Enterprise", Quantity: 2},
			{Kind: "go_to_market", Name: "Silver core", Quantity: 1},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]uuid.UUID{}
	for _, b := range bought.Purchased.Benefits {
		ids[string(b.Kind)] = b.BenefitID
	}
	return bought.Purchased, ids
}

// packageCommand is a command on the package of a benefit kind, sent by
// Jo; before runs first, as the partner's first admin (target's By).
func packageCommand(kind string, before, run func(f *fixture, j jo, target commands.PackageTarget, ctx context.Context) (any, error)) func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
	return func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
		j := f.jo(t)
		p, ids := j.pack(t, f)
		target := commands.PackageTarget{By: j.admin, PartnerID: j.partnerID, PackageID: p.PackageID, BenefitID: ids[kind]}
		if before != nil {
			if _, err := before(f, j, target, context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		target.By = j.jo
		return func(ctx context.Context) (any, error) { return run(f, j, target, ctx) }, j.remove
	}
}

func assignBo(f *fixture, j jo, target commands.PackageTarget, ctx context.Context) (any, error) {
	return commands.AssignBenefitUserHandler(f.deps).Handle(ctx, commands.AssignBenefitUser{PackageTarget: target, UserID: j.boID})
}

func contactBo(f *fixture, j jo, target commands.PackageTarget, ctx context.Context) (any, error) {
	return commands.SetMarketingContactHandler(f.deps).Handle(ctx, commands.SetMarketingContact{PackageTarget: target, UserID: j.boID,
		AlternateEmail: "bo@mail.example", Phone: "+82 2 1234 5678", Language: "ko-KR"})
}

func TestIdempotencyKey_a_partner_command_run_again_after_the_caller_lost_the_right_answers_as_before(t *testing.T) {
	testLostRight(t, []lostRight{
		{"add a partner user", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			j := f.jo(t)
			return func(ctx context.Context) (any, error) {
				return commands.AddPartnerUserHandler(f.deps).Handle(ctx, commands.AddPartnerUser{By: j.jo, PartnerID: j.partnerID,
					Person: partner.Person{Email: "al@alpha.example", FirstName: "A", LastName: "L", Roles: []string{"sales_agent"}}})
			}, j.remove
		}},
		{"change a partner user's roles", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			j := f.jo(t)
			return func(ctx context.Context) (any, error) {
				return commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: j.jo, PartnerID: j.partnerID, UserID: j.boID,
					Roles: []string{"admin_agent"}})
			}, j.remove
		}},
		{"remove a partner user", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			j := f.jo(t)
			return func(ctx context.Context) (any, error) {
				return commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: j.jo, PartnerID: j.partnerID, UserID: j.boID, Remove: true})
			}, j.remove
		}},
		{"buy a benefit package", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			j := f.jo(t)
			return func(ctx context.Context) (any, error) {
				return commands.PurchaseBenefitPackageHandler(f.deps).Handle(ctx, commands.PurchaseBenefitPackage{By: j.jo, PartnerID: j.partnerID,
					Order: benefit.Order{Name: "Pack", Price: subscription.Price{Amount: "10", Currency: "USD"},
						Benefits: []benefit.Spec{{Kind: "visual_studio", Name: "Visual Studio Enterprise", Quantity: 2}}}})
			}, j.remove
		}},
		{"cancel a benefit package", packageCommand("software", nil, func(f *fixture, _ jo, target commands.PackageTarget, ctx context.Context) (any, error) {
			return commands.CancelBenefitPackageHandler(f.deps).Handle(ctx, commands.CancelBenefitPackage{PackageTarget: target})
		})},
		{"get a product key", packageCommand("software", nil, func(f *fixture, _ jo, target commands.PackageTarget, ctx context.Context) (any, error) {
			return commands.RetrieveProductKeyHandler(f.deps).Handle(ctx, commands.RetrieveProductKey{PackageTarget: target, Language: "en-US", OS: "windows-x64"})
		})},
		{"assign the company", packageCommand("cloud", nil, func(f *fixture, _ jo, target commands.PackageTarget, ctx context.Context) (any, error) {
			return commands.AssignBenefitCompanyHandler(f.deps).Handle(ctx, target)
		})},
		{"assign a user", packageCommand("visual_studio", nil, assignBo)},
		{"unassign a user", packageCommand("visual_studio", assignBo, func(f *fixture, j jo, target commands.PackageTarget, ctx context.Context) (any, error) {
			return commands.UnassignBenefitUserHandler(f.deps).Handle(ctx, commands.UnassignBenefitUser{PackageTarget: target, UserID: j.boID})
		})},
		{"set the marketing contact", packageCommand("go_to_market", nil, contactBo)},
		{"activate go-to-market", packageCommand("go_to_market", contactBo, func(f *fixture, _ jo, target commands.PackageTarget, ctx context.Context) (any, error) {
			return commands.ActivateGoToMarketHandler(f.deps).Handle(ctx, target)
		})},
	})
}

// agent is Bo, an admin agent of Alpha, which serves the fixture's
// account: Bo may act on its manager until Alpha's admin removes Bo.
func (f *fixture) agent(t *testing.T) (bo commands.Actor, remove func() error) {
	t.Helper()
	alpha, admin := f.partner(t, "Alpha")
	ctx := context.Background()
	added, err := commands.AddPartnerUserHandler(f.deps).Handle(ctx, commands.AddPartnerUser{By: admin, PartnerID: alpha,
		Person: partner.Person{Email: "bo@alpha.example", FirstName: "B", LastName: "O", Roles: []string{"admin_agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := commands.AssociatePartnerHandler(f.deps).Handle(ctx, commands.AssociatePartner{By: operator, AccountID: f.account, PartnerID: alpha}); err != nil {
		t.Fatal(err)
	}
	return commands.Actor{Subject: "bo", Email: "bo@alpha.example"}, func() error {
		_, err := commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: admin, PartnerID: alpha, UserID: added.UserID, Remove: true})
		return err
	}
}

func TestIdempotencyKey_a_manager_command_run_again_after_the_caller_lost_the_right_answers_as_before(t *testing.T) {
	testLostRight(t, []lostRight{
		{"designate a manager", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			bo, remove := f.agent(t)
			return func(ctx context.Context) (any, error) {
				return commands.DesignateManagerHandler(f.deps).Handle(ctx, commands.DesignateManager{By: bo, AccountID: f.account,
					Manager: user.Profile{Email: "kim@fabrikam.example", FirstName: "Kim", LastName: "N", Language: "en", Country: "US"}})
			}, remove
		}},
		{"change the manager's email", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			bo, remove := f.agent(t)
			f.pendingManager(t)
			return func(ctx context.Context) (any, error) {
				return commands.ChangeManagerEmailHandler(f.deps).Handle(ctx, commands.ChangeManagerEmail{By: bo, AccountID: f.account, Email: "pat2@fabrikam.example"})
			}, remove
		}},
		{"resend the manager's invitation", func(t *testing.T, f *fixture) (func(context.Context) (any, error), func() error) {
			bo, remove := f.agent(t)
			manager := f.pendingManager(t)
			return func(ctx context.Context) (any, error) {
				return commands.ResendInvitationHandler(f.deps).Handle(ctx, commands.ResendInvitation{By: bo, AccountID: f.account, UserID: manager})
			}, remove
		}},
	})
}

// A removal run again with its idempotency key (its answer lost) answers
// as it did, by a caller who still may: it used to decide again, and find
// no such user (404).
func TestChangePartnerUser_a_removal_run_again_with_its_key_answers_as_before(t *testing.T) {
	f := newFixture(t)
	partnerID, admin := f.partner(t, "Alpha")
	bo := f.partnerUser(t, admin, partnerID, "bo@alpha.example")
	ctx := commands.WithIdempotencyKey(context.Background(), "ga\x00DELETE /users\x00"+uuid.NewString())
	remove := func() (any, error) {
		return commands.ChangePartnerUserHandler(f.deps).Handle(ctx, commands.ChangePartnerUser{By: admin, PartnerID: partnerID, UserID: bo.UserID, Remove: true})
	}
	first, err := remove()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := remove(); err != nil || again != first {
		t.Fatalf("the removal run again with its key: %v, %v; want %v", again, err, first)
	}
}
