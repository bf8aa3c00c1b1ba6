package httpapi

import (
	"log/slog"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/payment"
)

// BillingCommands are the handlers behind the billing routes (billing
// profiles and their cards) and the benefit routes (partner-network
// membership packages).
type BillingCommands struct {
	CreateProfile commands.Handler[commands.CreateBillingProfile, commands.BillingProfileCreated]
	AddCard       commands.Handler[commands.AddPaymentMethod, commands.PaymentMethodSaved]
	EditCard      commands.Handler[commands.EditPaymentMethod, commands.PaymentMethodSaved]
	ReplaceCard   commands.Handler[commands.ReplacePaymentMethod, commands.PaymentMethodSaved]
	RemoveCard    commands.Handler[commands.RemovePaymentMethod, eventstore.Position]

	PurchasePackage commands.Handler[commands.PurchaseBenefitPackage, commands.BenefitPackagePurchased]
	RetrieveKey     commands.Handler[commands.RetrieveProductKey, commands.ProductKey]
	AssignCompany   commands.Handler[commands.PackageTarget, commands.PackageChanged]
	AssignUser      commands.Handler[commands.AssignBenefitUser, commands.PackageChanged]
	UnassignUser    commands.Handler[commands.UnassignBenefitUser, commands.PackageChanged]
	SetContact      commands.Handler[commands.SetMarketingContact, commands.PackageChanged]
	ActivateGTM     commands.Handler[commands.PackageTarget, commands.PackageChanged]
	CancelPackage   commands.Handler[commands.CancelBenefitPackage, commands.PackageChanged]
}

// NewBillingCommands wires the billing and benefit handlers, each with
// logging; cards go to provider.
func NewBillingCommands(d commands.Deps, provider payment.Provider, log *slog.Logger) BillingCommands {
	return BillingCommands{
		CreateProfile: commands.Logged("CreateBillingProfile", log, commands.CreateBillingProfileHandler(d)),
		AddCard:       commands.Logged("AddPaymentMethod", log, commands.AddPaymentMethodHandler(d, provider)),
		EditCard:      commands.Logged("EditPaymentMethod", log, commands.EditPaymentMethodHandler(d, provider)),
		ReplaceCard:   commands.Logged("ReplacePaymentMethod", log, commands.ReplacePaymentMethodHandler(d, provider)),
		RemoveCard:    commands.Logged("RemovePaymentMethod", log, commands.RemovePaymentMethodHandler(d, provider)),

		PurchasePackage: commands.Logged("PurchaseBenefitPackage", log, commands.PurchaseBenefitPackageHandler(d)),
		RetrieveKey:     commands.Logged("RetrieveProductKey", log, commands.RetrieveProductKeyHandler(d)),
		AssignCompany:   commands.Logged("AssignBenefitCompany", log, commands.AssignBenefitCompanyHandler(d)),
		AssignUser:      commands.Logged("AssignBenefitUser", log, commands.AssignBenefitUserHandler(d)),
		UnassignUser:    commands.Logged("UnassignBenefitUser", log, commands.UnassignBenefitUserHandler(d)),
		SetContact:      commands.Logged("SetMarketingContact", log, commands.SetMarketingContactHandler(d)),
		ActivateGTM:     commands.Logged("ActivateGoToMarket", log, commands.ActivateGoToMarketHandler(d)),
		CancelPackage:   commands.Logged("CancelBenefitPackage", log, commands.CancelBenefitPackageHandler(d)),
	}
}

// BillingRoutes declares the billing and benefit command routes.
func BillingRoutes(c BillingCommands, log *slog.Logger) []kit.Route {
	return append(billingProfileRoutes(c, log), benefitRoutes(c, log)...)
}
