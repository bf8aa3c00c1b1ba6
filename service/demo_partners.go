package service

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
)

// The demo's partners: each serves the demo account and ordered one
// subscription for it.
var demoPartners = []struct{ name, admin, product, productName string }{
	{"Fabrikam Resellers", "pat@fabrikam.example", "office-e3", "Office 365 E3"},
	{"Litware Cloud", "lee@litware.example", "visio-plan-2", "Visio Plan 2"},
}

// seedDemoPartners registers the demo partners, lets them serve the
// account, has each order a subscription, and buys one self-service.
func seedDemoPartners(ctx context.Context, deps commands.Deps, accountID uuid.UUID, admin commands.Actor) error {
	operator := commands.Actor{Subject: "demo-operator", Operator: true}
	expires := deps.Clock.Now().AddDate(1, 0, 0)
	buy := commands.PurchaseSubscriptionHandler(deps)
	for _, p := range demoPartners {
		reg, err := commands.RegisterPartnerHandler(deps).Handle(ctx, commands.RegisterPartner{
			By: operator, Name: p.name, Admin: partner.Person{Email: p.admin, FirstName: "Demo", LastName: "Admin"},
		})
		if err != nil {
			return fmt.Errorf("partner %s: %w", p.name, err)
		}
		if _, err := commands.AssociatePartnerHandler(deps).Handle(ctx, commands.AssociatePartner{By: operator, AccountID: accountID, PartnerID: reg.PartnerID}); err != nil {
			return err
		}
		partnerID := reg.PartnerID
		if _, err := buy.Handle(ctx, commands.PurchaseSubscription{By: commands.Actor{Subject: "demo-" + p.admin, Email: p.admin}, AccountID: accountID, Order: subscription.Order{
			ProductID: p.product, ProductName: p.productName, Name: p.productName + " for Contoso", OrderingPartnerID: &partnerID,
			ExpiresAt: expires, Price: subscription.Price{Amount: "2400.00", Currency: "USD"}, TotalLicenses: 25,
		}}); err != nil {
			return fmt.Errorf("order by %s: %w", p.name, err)
		}
	}
	_, err := buy.Handle(ctx, commands.PurchaseSubscription{By: admin, AccountID: accountID, Order: subscription.Order{
		ProductID: "project-plan-3", ProductName: "Project Plan 3", Name: "Project for the PMO",
		ExpiresAt: expires.Add(-30 * 24 * time.Hour), Price: subscription.Price{Amount: "899.95", Currency: "USD"}, TotalLicenses: 10,
	}})
	return err
}
