package mailer

import (
	"context"
	"errors"
	"net/mail"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

// MarketingContact is what the instructions of the go-to-market benefits
// tell the partner's user named their marketing contact. Seed 003 sends
// them to the email given for the contact (not the sign-in one, which the
// contact's email must differ from), in the contact's preferred language.
type MarketingContact struct {
	FirstName, LastName string
	PartnerID           uuid.UUID
	PartnerName         string
	SignInEmail         string
	ContactEmail        string
	Phone               string
	BenefitsURL         string
	SetAt               time.Time
}

// RenderMarketingContact writes the go-to-market instructions in the
// language of the tag; the caller addresses the message.
func RenderMarketingContact(languageTag string, m MarketingContact) (Message, error) {
	lang := Language(languageTag)
	return render(kindMarketingContact, lang, struct {
		Name, PartnerName, SignInEmail, ContactEmail, Phone, BenefitsURL string
		SetAt                                                            time.Time
	}{
		Name: PersonName(lang, m.FirstName, m.LastName), PartnerName: nameOr(m.PartnerName, m.PartnerID),
		SignInEmail: m.SignInEmail, ContactEmail: m.ContactEmail, Phone: m.Phone, BenefitsURL: m.BenefitsURL,
		SetAt: m.SetAt.In(locales[lang].zone),
	})
}

// marketingContactSet claims the instructions' email of a marketing
// contact set (a new contact, or the same one with a new email, phone or
// language: each tells the contact again). As for a technical benefit,
// the event's own row marks it handled, so a replay mails nobody.
func (c *Consumer) marketingContactSet(ctx context.Context, tx pgx.Tx, env event.Envelope, e benefit.MarketingContactSet) ([]pending, error) {
	if e.AlternateEmail == user.Erased {
		return nil, c.skip(ctx, tx, env, "skipped: personal data erased")
	}
	m := MarketingContact{PartnerID: e.PartnerID, ContactEmail: e.AlternateEmail, Phone: e.Phone, SetAt: env.OccurredAt,
		BenefitsURL: BenefitsURL(c.BaseURL, e.PartnerID, string(benefit.GoToMarket))}
	u, err := partnerUserNamed(ctx, tx, e.PartnerID, e.UserID, &m.PartnerName)
	m.SignInEmail, m.FirstName, m.LastName = u.email, u.firstName, u.lastName
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, c.skip(ctx, tx, env, "skipped: unknown partner user")
	}
	if err != nil {
		return nil, err
	}
	claimed, err := claim(ctx, tx, env.EventID, "pending")
	if err != nil || !claimed {
		return nil, err
	}
	return []pending{{env: env, key: env.EventID, write: func() (Message, error) {
		msg, err := RenderMarketingContact(e.Language, m)
		if err != nil {
			return Message{}, err
		}
		msg.To = (&mail.Address{Name: PersonName(e.Language, m.FirstName, m.LastName), Address: m.ContactEmail}).String()
		msg.ID = "marketing-contact." + env.EventID.String()
		msg.Headers["X-Bizcenter-Event-Id"] = env.EventID.String()
		return msg, nil
	}}}, nil
}
