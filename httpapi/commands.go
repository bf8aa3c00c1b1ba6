package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// Commands are the handlers behind the command routes.
type Commands struct {
	RegisterAccount  commands.Handler[commands.RegisterAccount, commands.AccountRegistered]
	InviteUser       commands.Handler[commands.InviteUser, commands.UserInvited]
	ResendInvitation commands.Handler[commands.ResendInvitation, commands.InvitationResent]
	AcceptInvitation commands.Handler[commands.AcceptInvitation, commands.InvitationAccepted]
	ChangeUserRoles  commands.Handler[commands.ChangeUserRoles, commands.UserRolesChanged]
	ChangeDomain     commands.Handler[commands.ChangeDomain, commands.DomainsChanged]
	RequestResend    commands.Handler[commands.RequestManagerResend, bool]
	RecordExpiry     commands.Handler[commands.RecordInvitationExpiry, bool]
	ErasePersonal    commands.Handler[commands.ErasePersonalData, commands.PersonalDataErased]
	ErasePartnerUser commands.Handler[commands.ErasePartnerUserPersonalData, commands.PersonalDataErased]
	FinishErasure    commands.Handler[commands.FinishErasure, commands.PersonalDataErased]

	RegisterPartner          commands.Handler[commands.RegisterPartner, commands.PartnerRegistered]
	AddPartnerUser           commands.Handler[commands.AddPartnerUser, commands.PartnerUserAdded]
	ChangePartnerUser        commands.Handler[commands.ChangePartnerUser, eventstore.Position]
	AssociatePartner         commands.Handler[commands.AssociatePartner, eventstore.Position]
	ChangeChannelPartner     commands.Handler[commands.ChangeChannelPartner, eventstore.Position]
	PartnerVisibility        commands.Handler[commands.PartnerVisibility, eventstore.Position]
	PurchaseSubscription     commands.Handler[commands.PurchaseSubscription, commands.SubscriptionPurchased]
	SetLicenseTotal          commands.Handler[commands.SetLicenseTotal, eventstore.Position]
	CancelSubscription       commands.Handler[commands.CancelSubscription, eventstore.Position]
	RecordSubscriptionExpiry commands.Handler[commands.RecordSubscriptionExpiry, bool]
	DesignateManager         commands.Handler[commands.DesignateManager, commands.ManagerChanged]
	ChangeManagerEmail       commands.Handler[commands.ChangeManagerEmail, commands.ManagerChanged]
}

// NewCommands wires every command handler over the same dependencies,
// each with logging; l is what a cancellation needs to see the licenses
// that require the subscription's product.
func NewCommands(d commands.Deps, l commands.Licensing, log *slog.Logger) Commands {
	return Commands{
		RegisterAccount:  commands.Logged("RegisterAccount", log, commands.RegisterAccountHandler(d)),
		InviteUser:       commands.Logged("InviteUser", log, commands.InviteUserHandler(d)),
		ResendInvitation: commands.Logged("ResendInvitation", log, commands.ResendInvitationHandler(d)),
		AcceptInvitation: commands.Logged("AcceptInvitation", log, commands.AcceptInvitationHandler(d)),
		ChangeUserRoles:  commands.Logged("ChangeUserRoles", log, commands.ChangeUserRolesHandler(d)),
		ChangeDomain:     commands.Logged("ChangeDomain", log, commands.ChangeDomainHandler(d)),
		RequestResend:    commands.Logged("RequestManagerResend", log, commands.RequestManagerResendHandler(d)),
		RecordExpiry:     commands.RecordInvitationExpiryHandler(d),
		ErasePersonal:    commands.Logged("ErasePersonalData", log, commands.ErasePersonalDataHandler(d)),
		ErasePartnerUser: commands.Logged("ErasePartnerUserPersonalData", log, commands.ErasePartnerUserPersonalDataHandler(d)),
		FinishErasure:    commands.Logged("FinishErasure", log, commands.FinishErasureHandler(d)),

		RegisterPartner:          commands.Logged("RegisterPartner", log, commands.RegisterPartnerHandler(d)),
		AddPartnerUser:           commands.Logged("AddPartnerUser", log, commands.AddPartnerUserHandler(d)),
		ChangePartnerUser:        commands.Logged("ChangePartnerUser", log, commands.ChangePartnerUserHandler(d)),
		AssociatePartner:         commands.Logged("AssociatePartner", log, commands.AssociatePartnerHandler(d)),
		ChangeChannelPartner:     commands.Logged("ChangeChannelPartner", log, commands.ChangeChannelPartnerHandler(d)),
		PartnerVisibility:        commands.Logged("PartnerVisibility", log, commands.PartnerVisibilityHandler(d)),
		PurchaseSubscription:     commands.Logged("PurchaseSubscription", log, commands.PurchaseSubscriptionHandler(d)),
		SetLicenseTotal:          commands.Logged("SetLicenseTotal", log, commands.SetLicenseTotalHandler(d)),
		CancelSubscription:       commands.Logged("CancelSubscription", log, commands.CancelSubscriptionHandler(d, l)),
		RecordSubscriptionExpiry: commands.RecordSubscriptionExpiryHandler(d),
		DesignateManager:         commands.Logged("DesignateManager", log, commands.DesignateManagerHandler(d)),
		ChangeManagerEmail:       commands.Logged("ChangeManagerEmail", log, commands.ChangeManagerEmailHandler(d)),
	}
}

// actor is the command-side view of the verified caller.
func actor(r *http.Request) commands.Actor {
	p, _ := kit.PrincipalFrom(r.Context())
	return commands.Actor{Subject: p.Subject, Email: p.Email, Operator: p.Operator}
}

// pathID parses a UUID path parameter, naming it when it is not one.
func pathID(r *http.Request, name string) (uuid.UUID, *kit.Problem) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return uuid.Nil, kit.Invalid(kit.FieldProblem{Field: name, Reason: "not a UUID"})
	}
	return id, nil
}

// CommandRoutes declares the command routes.
func CommandRoutes(c Commands, log *slog.Logger) []kit.Route {
	routes := []kit.Route{
		registerAccountRoute(c, log),
		inviteUserRoute(c, log),
		resendInvitationRoute(c, log),
		acceptInvitationRoute(c, log),
		changeRolesRoute(c, log),
		domainRoute(c, log, false),
		domainRoute(c, log, true),
		erasureRoute(c, log),
		partnerUserErasureRoute(c, log),
	}
	routes = append(routes, partnerRoutes(c, log)...)
	routes = append(routes, managerRoutes(c, log)...)
	return append(routes, subscriptionRoutes(c, log)...)
}
