package mailer

import (
	"cmp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// VisibilityGranted is what the email to a user of a grantee partner
// tells: a customer account now lets their partner see what another
// partner ordered for it, by a grant to their partner or to the partner
// their partner took the account over from.
type VisibilityGranted struct {
	FirstName, LastName string
	// The names may be empty when the mailer never saw the account or a
	// partner registered; the email then gives the id, which the
	// recipient can still look up.
	AccountID         uuid.UUID
	AccountName       string
	PartnerID         uuid.UUID // the grantee, the recipient's organization
	PartnerName       string
	SourcePartnerID   uuid.UUID
	SourcePartnerName string
	// The partner the grant was made to, when PartnerID inherited it by
	// taking the account over (uuid.Nil for a grant made to PartnerID).
	PreviousPartnerID   uuid.UUID
	PreviousPartnerName string
	ViewURL             string
	GrantedAt           time.Time
}

// SubscriptionsURL is where a partner's user sees the subscriptions of an
// account the partner may see: <base>/v1/partners/<partnerId>/accounts/<accountId>/subscriptions.
func SubscriptionsURL(base string, partnerID, accountID uuid.UUID) string {
	return strings.TrimRight(base, "/") + "/v1/partners/" + partnerID.String() + "/accounts/" + accountID.String() + "/subscriptions"
}

// RenderVisibilityGranted writes the visibility-granted email in the
// language of the tag. The message has its Subject, TextBody and
// Content-Language header; the caller addresses it.
func RenderVisibilityGranted(languageTag string, v VisibilityGranted) (Message, error) {
	lang := Language(languageTag)
	return render(kindVisibilityGranted, lang, struct {
		Name, AccountName, PartnerName, SourcePartnerName, PreviousPartnerName, ViewURL string
		GrantedAt                                                                       time.Time
	}{
		Name:                PersonName(lang, v.FirstName, v.LastName),
		AccountName:         nameOr(v.AccountName, v.AccountID),
		PartnerName:         nameOr(v.PartnerName, v.PartnerID),
		SourcePartnerName:   nameOr(v.SourcePartnerName, v.SourcePartnerID),
		PreviousPartnerName: previousName(v),
		ViewURL:             v.ViewURL,
		GrantedAt:           v.GrantedAt.In(locales[lang].zone),
	})
}

// previousName is the name of the partner an inherited grant was made
// to; empty for a grant made to the recipient's partner.
func previousName(v VisibilityGranted) string {
	if v.PreviousPartnerID == uuid.Nil {
		return ""
	}
	return nameOr(v.PreviousPartnerName, v.PreviousPartnerID)
}

func nameOr(name string, id uuid.UUID) string { return cmp.Or(strings.TrimSpace(name), id.String()) }
