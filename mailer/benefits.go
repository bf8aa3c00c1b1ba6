package mailer

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

// TechnicalBenefit is what the instructions of a technical benefit tell
// the user assigned to it. They go to the user's sign-in email and to the
// alternate email given for the benefit, one message each.
type TechnicalBenefit struct {
	FirstName, LastName string
	PartnerID           uuid.UUID
	PartnerName         string
	SignInEmail         string
	AlternateEmail      string
	BenefitsURL         string
	AssignedAt          time.Time
}

// BenefitsURL is where a partner's user sees the partner's benefits of a
// kind: <base>/v1/partners/<partnerId>/benefits?kind=<kind>.
func BenefitsURL(base string, partnerID uuid.UUID, kind string) string {
	return strings.TrimRight(base, "/") + "/v1/partners/" + partnerID.String() + "/benefits?kind=" + kind
}

// RenderTechnicalBenefit writes the technical benefit's instructions in
// the language of the tag; the caller addresses the message.
func RenderTechnicalBenefit(languageTag string, b TechnicalBenefit) (Message, error) {
	lang := Language(languageTag)
	return render(kindTechnicalBenefit, lang, struct {
		Name, PartnerName, SignInEmail, AlternateEmail, BenefitsURL string
		AssignedAt                                                  time.Time
	}{
		Name: PersonName(lang, b.FirstName, b.LastName), PartnerName: nameOr(b.PartnerName, b.PartnerID),
		SignInEmail: b.SignInEmail, AlternateEmail: b.AlternateEmail, BenefitsURL: b.BenefitsURL,
		AssignedAt: b.AssignedAt.In(locales[lang].zone),
	})
}

// benefitAssigned claims the two emails of a technical benefit's
// assignment (an assignment with an alternate email is one): to the
// user's sign-in email and to the alternate one. As for a visibility
// grant, the event's own row marks it handled, so a replay mails nobody.
func (c *Consumer) benefitAssigned(ctx context.Context, tx pgx.Tx, env event.Envelope, partnerID, userID uuid.UUID, alternate string) ([]pending, error) {
	if alternate == "" {
		return nil, nil // a Visual Studio subscription: no instructions
	}
	if alternate == user.Erased {
		return nil, c.skip(ctx, tx, env, "skipped: personal data erased")
	}
	b := TechnicalBenefit{PartnerID: partnerID, AlternateEmail: alternate, AssignedAt: env.OccurredAt,
		BenefitsURL: BenefitsURL(c.BaseURL, partnerID, "technical")}
	u, err := partnerUserNamed(ctx, tx, partnerID, userID, &b.PartnerName)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, c.skip(ctx, tx, env, "skipped: unknown partner user")
	}
	if err != nil {
		return nil, err
	}
	claimed, err := claim(ctx, tx, env.EventID, "one email a recipient: 2")
	if err != nil || !claimed {
		return nil, err
	}
	b.FirstName, b.LastName, b.SignInEmail = u.firstName, u.lastName, u.email
	var out []pending
	for i, to := range []string{u.email, alternate} {
		key := uuid.NewSHA1(env.EventID, []byte(fmt.Sprintf("technical-benefit/%d", i)))
		ok, err := claim(ctx, tx, key, "pending")
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, pending{env: env, key: key, write: func() (Message, error) {
				m, err := RenderTechnicalBenefit(partnerLanguage, b)
				if err != nil {
					return Message{}, err
				}
				m.To = (&mail.Address{Name: PersonName(partnerLanguage, u.firstName, u.lastName), Address: to}).String()
				m.ID = "technical-benefit." + key.String()
				m.Headers["X-Bizcenter-Event-Id"] = env.EventID.String()
				return m, nil
			}})
		}
	}
	return out, nil
}

// partnerUserNamed reads a partner's user as the mailer knows them, and
// the partner's name into name ("" when unknown); pgx.ErrNoRows when the
// mailer knows no such user.
func partnerUserNamed(ctx context.Context, tx pgx.Tx, partnerID, userID uuid.UUID, name *string) (partnerUser, error) {
	var u partnerUser
	err := tx.QueryRow(ctx, `SELECT u.user_id, u.email, u.first_name, u.last_name, coalesce(n.name, '')
		FROM mail_partner_users u LEFT JOIN mail_partner_names n ON n.partner_id = u.partner_id
		WHERE u.partner_id = $1 AND u.user_id = $2`, partnerID, userID).Scan(&u.id, &u.email, &u.firstName, &u.lastName, name)
	return u, err
}
