package integration

import (
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
)

// notYet is why a domain event has no integration type so far.
const notYet = "not published yet: no integration type decided"

// Internal lists the domain event types that are never published: the
// uniqueness reservations, and the account's own bookkeeping of who holds
// Account Administrator (user.roles_changed and user.invited already say
// it). Every other registered type must have a mapping (a test checks).
var Internal = map[string]string{
	"reservation.claimed":             "a uniqueness claim, an implementation detail of the write side",
	"reservation.released":            "a uniqueness claim, an implementation detail of the write side",
	"user.email_claim_lapsed":         "fences a stalled uniqueness claim; changes nothing about the user",
	"user.manager_handover_started":   "fences a change of the manager's email against a designation; account.manager_designated tells the designation",
	"account.manager_handover_lapsed": "fences a stalled designation off the account; changes nothing about it",
	"account.administrator_granted":   "bookkeeping behind the last-administrator rule; user.invited and user.roles_changed carry the roles",
	"account.administrator_revoked":   "bookkeeping behind the last-administrator rule; user.roles_changed carries the roles",
	// Not published yet: added while issue 9 was built; map them (with a
	// schema) to publish them.
	"subscription.licenses_assigned":   notYet,
	"subscription.licenses_unassigned": notYet,
	// Not published yet either: the billing profiles and the partner
	// benefit packages never had an integration type (their cards, contact
	// details and alternate emails must not reach one as they are).
	"billing.profile_created":         notYet,
	"billing.payment_method_added":    notYet,
	"billing.payment_method_updated":  notYet,
	"billing.payment_method_replaced": notYet,
	"billing.payment_method_removed":  notYet,
	"benefit.package_purchased":       notYet,
	"benefit.product_key_retrieved":   notYet,
	"benefit.company_assigned":        notYet,
	"benefit.user_assigned":           notYet,
	"benefit.user_reassigned":         notYet,
	"benefit.user_unassigned":         notYet,
	"benefit.marketing_contact_set":   notYet,
	"benefit.activated":               notYet,
	"benefit.package_cancelled":       notYet,
}

// The data of each integration type, v1. Fields are camelCase; ids are
// UUIDs; times RFC 3339 in UTC.
type (
	AccountRegistered struct {
		AccountID             uuid.UUID `json:"accountId"`
		Name                  string    `json:"name"`
		AgreementNumber       string    `json:"agreementNumber"`
		PurchaseAccountNumber string    `json:"purchaseAccountNumber"`
		ManagerUserID         uuid.UUID `json:"managerUserId"`
	}
	AccountManagerDesignated struct {
		AccountID     uuid.UUID `json:"accountId"`
		ManagerUserID uuid.UUID `json:"managerUserId"`
	}
	AccountDomain struct {
		AccountID uuid.UUID `json:"accountId"`
		Domain    string    `json:"domain"`
	}
	AccountPartnerAssociated struct {
		AccountID uuid.UUID `json:"accountId"`
		PartnerID uuid.UUID `json:"partnerId"`
	}
	AccountChannelPartnerChanged struct {
		AccountID     uuid.UUID `json:"accountId"`
		FromPartnerID uuid.UUID `json:"fromPartnerId"`
		ToPartnerID   uuid.UUID `json:"toPartnerId"`
	}
	AccountPartnerVisibility struct {
		AccountID        uuid.UUID `json:"accountId"`
		GranteePartnerID uuid.UUID `json:"granteePartnerId"`
		SourcePartnerID  uuid.UUID `json:"sourcePartnerId"`
	}
	UserInvited struct {
		UserID    uuid.UUID   `json:"userId"`
		AccountID uuid.UUID   `json:"accountId"`
		Roles     []user.Role `json:"roles"`
		SentAt    time.Time   `json:"sentAt"`
		ExpiresAt time.Time   `json:"expiresAt"`
	}
	UserInvitationResent struct {
		UserID    uuid.UUID `json:"userId"`
		AccountID uuid.UUID `json:"accountId"`
		SentAt    time.Time `json:"sentAt"`
		ExpiresAt time.Time `json:"expiresAt"`
	}
	UserInvitationAccepted struct {
		UserID     uuid.UUID `json:"userId"`
		AccountID  uuid.UUID `json:"accountId"`
		AcceptedAt time.Time `json:"acceptedAt"`
	}
	UserRolesChanged struct {
		UserID    uuid.UUID   `json:"userId"`
		AccountID uuid.UUID   `json:"accountId"`
		Roles     []user.Role `json:"roles"`
		Added     []user.Role `json:"added"`
		Removed   []user.Role `json:"removed"`
	}
	UserEmailChanged struct {
		UserID    uuid.UUID `json:"userId"`
		AccountID uuid.UUID `json:"accountId"`
	}
	UserInvitationExpired struct {
		UserID    uuid.UUID `json:"userId"`
		AccountID uuid.UUID `json:"accountId"`
		ExpiredAt time.Time `json:"expiredAt"`
	}
	UserPersonalDataErased struct {
		UserID    uuid.UUID `json:"userId"`
		AccountID uuid.UUID `json:"accountId"`
		ErasedAt  time.Time `json:"erasedAt"`
	}
	PartnerUserPersonalDataErased struct {
		PartnerID uuid.UUID `json:"partnerId"`
		UserID    uuid.UUID `json:"userId"`
		ErasedAt  time.Time `json:"erasedAt"`
	}
	PartnerRegistered struct {
		PartnerID uuid.UUID `json:"partnerId"`
		Name      string    `json:"name"`
	}
	PartnerUser struct {
		PartnerID uuid.UUID      `json:"partnerId"`
		UserID    uuid.UUID      `json:"userId"`
		Roles     []partner.Role `json:"roles,omitempty"`
	}
	SubscriptionPurchased struct {
		SubscriptionID    uuid.UUID          `json:"subscriptionId"`
		AccountID         uuid.UUID          `json:"accountId"`
		ProductID         string             `json:"productId"`
		ProductName       string             `json:"productName"`
		Name              string             `json:"name"`
		OrderingPartnerID *uuid.UUID         `json:"orderingPartnerId"`
		PurchasedAt       time.Time          `json:"purchasedAt"`
		ExpiresAt         time.Time          `json:"expiresAt"`
		Price             subscription.Price `json:"price"`
		TotalLicenses     int                `json:"totalLicenses"`
	}
	SubscriptionLicenseTotalChanged struct {
		SubscriptionID uuid.UUID `json:"subscriptionId"`
		AccountID      uuid.UUID `json:"accountId"`
		PreviousTotal  int       `json:"previousTotal"`
		Total          int       `json:"total"`
	}
	SubscriptionCancelled struct {
		SubscriptionID uuid.UUID           `json:"subscriptionId"`
		AccountID      uuid.UUID           `json:"accountId"`
		Reason         subscription.Reason `json:"reason"`
		CancelledAt    time.Time           `json:"cancelledAt"`
	}
	SubscriptionExpired struct {
		SubscriptionID uuid.UUID `json:"subscriptionId"`
		AccountID      uuid.UUID `json:"accountId"`
		ExpiresAt      time.Time `json:"expiresAt"`
	}
)

func accountEvent(name string, id uuid.UUID, data any) mapped {
	return mapped{name: name, version: 1, aggregate: "accounts/" + id.String(), subject: "accounts/" + id.String(), account: id, data: data}
}

func userEvent(name string, userID, accountID uuid.UUID, data any) mapped {
	s := "users/" + userID.String()
	return mapped{name: name, version: 1, aggregate: s, subject: s, account: accountID, data: data}
}

func partnerEvent(name string, partnerID, userID uuid.UUID, data any) mapped {
	m := mapped{name: name, version: 1, aggregate: "partners/" + partnerID.String(), subject: "partners/" + partnerID.String(), partner: partnerID, data: data}
	if userID != uuid.Nil {
		m.subject += "/users/" + userID.String()
	}
	return m
}

// subscriptionAggregate starts the aggregate of a subscription's events.
const subscriptionAggregate = "subscriptions/"

func subscriptionEvent(name string, id, accountID uuid.UUID, data any) mapped {
	s := subscriptionAggregate + id.String()
	return mapped{name: name, version: 1, aggregate: s, subject: s, account: accountID, data: data}
}

// mapEvent is the one mapping of domain events to integration data. It
// copies fields one by one, so that a domain field added later is not
// published until it is mapped and documented here.
func mapEvent(ev event.Event) (mapped, bool) {
	switch e := ev.(type) {
	case account.Registered:
		return accountEvent("account.registered", e.AccountID, AccountRegistered{e.AccountID, e.Name, e.AgreementNumber, e.PurchaseAccountNumber, e.ManagerUserID}), true
	case account.ManagerDesignated:
		return accountEvent("account.manager_designated", e.AccountID, AccountManagerDesignated{e.AccountID, e.ManagerUserID}), true
	case account.DomainAdded:
		return accountEvent("account.domain_added", e.AccountID, AccountDomain{e.AccountID, e.Domain}), true
	case account.DomainRemoved:
		return accountEvent("account.domain_removed", e.AccountID, AccountDomain{e.AccountID, e.Domain}), true
	case account.PartnerAssociated:
		m := accountEvent("account.partner_associated", e.AccountID, AccountPartnerAssociated{e.AccountID, e.PartnerID})
		m.partner = e.PartnerID
		return m, true
	case account.ChannelPartnerChanged:
		m := accountEvent("account.channel_partner_changed", e.AccountID, AccountChannelPartnerChanged{e.AccountID, e.FromPartnerID, e.ToPartnerID})
		m.between = []uuid.UUID{e.FromPartnerID, e.ToPartnerID}
		return m, true
	case account.PartnerVisibilityGranted:
		m := accountEvent("account.partner_visibility_granted", e.AccountID, AccountPartnerVisibility{e.AccountID, e.GranteePartnerID, e.SourcePartnerID})
		m.between = []uuid.UUID{e.GranteePartnerID, e.SourcePartnerID}
		return m, true
	case account.PartnerVisibilityRevoked:
		m := accountEvent("account.partner_visibility_revoked", e.AccountID, AccountPartnerVisibility{e.AccountID, e.GranteePartnerID, e.SourcePartnerID})
		m.between = []uuid.UUID{e.GranteePartnerID, e.SourcePartnerID}
		return m, true
	case user.Invited:
		return userEvent("user.invited", e.UserID, e.AccountID, UserInvited{e.UserID, e.AccountID, list(e.Roles), e.SentAt, e.ExpiresAt}), true
	case user.InvitationResent:
		return userEvent("user.invitation_resent", e.UserID, e.AccountID, UserInvitationResent{e.UserID, e.AccountID, e.SentAt, e.ExpiresAt}), true
	case user.InvitationAccepted:
		return userEvent("user.invitation_accepted", e.UserID, e.AccountID, UserInvitationAccepted{e.UserID, e.AccountID, e.AcceptedAt}), true
	case user.RolesChanged:
		return userEvent("user.roles_changed", e.UserID, e.AccountID, UserRolesChanged{e.UserID, e.AccountID, list(e.Roles), list(e.Added), list(e.Removed)}), true
	case user.EmailChanged:
		return userEvent("user.email_changed", e.UserID, e.AccountID, UserEmailChanged{e.UserID, e.AccountID}), true
	case user.InvitationExpired:
		return userEvent("user.invitation_expired", e.UserID, e.AccountID, UserInvitationExpired{e.UserID, e.AccountID, e.ExpiredAt}), true
	case user.PersonalDataErased:
		return userEvent("user.personal_data_erased", e.UserID, e.AccountID, UserPersonalDataErased{e.UserID, e.AccountID, e.ErasedAt}), true
	case partner.Registered:
		return partnerEvent("partner.registered", e.PartnerID, uuid.Nil, PartnerRegistered{e.PartnerID, e.Name}), true
	case partner.UserAdded:
		return partnerEvent("partner.user_added", e.PartnerID, e.UserID, PartnerUser{e.PartnerID, e.UserID, e.Roles}), true
	case partner.UserRolesChanged:
		return partnerEvent("partner.user_roles_changed", e.PartnerID, e.UserID, PartnerUser{e.PartnerID, e.UserID, e.Roles}), true
	case partner.UserRemoved:
		return partnerEvent("partner.user_removed", e.PartnerID, e.UserID, PartnerUser{PartnerID: e.PartnerID, UserID: e.UserID}), true
	case partner.UserPersonalDataErased:
		return partnerEvent("partner.user_personal_data_erased", e.PartnerID, e.UserID, PartnerUserPersonalDataErased{e.PartnerID, e.UserID, e.ErasedAt}), true
	case subscription.Purchased:
		m := subscriptionEvent("subscription.purchased", e.SubscriptionID, e.AccountID, SubscriptionPurchased{
			e.SubscriptionID, e.AccountID, e.ProductID, e.ProductName, e.Name, e.OrderingPartnerID, e.PurchasedAt, e.ExpiresAt, e.Price, e.TotalLicenses})
		if e.OrderingPartnerID != nil {
			m.partner = *e.OrderingPartnerID
		}
		return m, true
	case subscription.LicenseTotalChanged:
		return subscriptionEvent("subscription.license_total_changed", e.SubscriptionID, e.AccountID, SubscriptionLicenseTotalChanged{e.SubscriptionID, e.AccountID, e.PreviousTotal, e.Total}), true
	case subscription.Cancelled:
		return subscriptionEvent("subscription.cancelled", e.SubscriptionID, e.AccountID, SubscriptionCancelled{e.SubscriptionID, e.AccountID, e.Reason, e.CancelledAt}), true
	case subscription.Expired:
		return subscriptionEvent("subscription.expired", e.SubscriptionID, e.AccountID, SubscriptionExpired{e.SubscriptionID, e.AccountID, e.ExpiresAt}), true
	}
	return mapped{}, false
}

// list keeps an empty list a JSON array, never null.
func list[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Types lists every integration type published, by the domain type it
// comes from.
var Types = map[string]string{}

func init() {
	for _, dt := range []string{
		"account.registered", "account.manager_designated", "account.domain_added", "account.domain_removed",
		"account.partner_associated", "account.channel_partner_changed", "account.partner_visibility_granted",
		"account.partner_visibility_revoked", "user.invited", "user.invitation_resent", "user.invitation_accepted",
		"user.roles_changed", "user.email_changed", "user.invitation_expired", "user.personal_data_erased", "partner.registered",
		"partner.user_added", "partner.user_roles_changed", "partner.user_removed", "partner.user_personal_data_erased", "subscription.purchased",
		"subscription.license_total_changed", "subscription.cancelled", "subscription.expired",
	} {
		Types[dt] = TypeName(dt, 1)
	}
}
