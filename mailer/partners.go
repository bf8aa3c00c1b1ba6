package mailer

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
)

// grantRecipientRoles are the partner roles told of a visibility grant:
// the ones that order for customers and run the partner, who act on what
// the grant now shows them.
var grantRecipientRoles = []string{string(partner.GlobalAdmin), string(partner.AdminAgent)}

// partnerLanguage is the language of emails to partner users: their
// events carry no language preference, so the fallback.
const partnerLanguage = fallbackLanguage

// applyPartner records the partner names and users the visibility email
// needs, and claims that email when a grant is made.
func (c *Consumer) applyPartner(ctx context.Context, tx pgx.Tx, env event.Envelope) ([]pending, error) {
	switch e := env.Event.(type) {
	case partner.Registered:
		_, err := tx.Exec(ctx, `
			INSERT INTO mail_partner_names (partner_id, name) VALUES ($1, $2)
			ON CONFLICT (partner_id) DO UPDATE SET name = EXCLUDED.name`, e.PartnerID, e.Name)
		return nil, err
	case partner.UserAdded:
		if e.Email == user.Erased {
			// The person's key is gone (read so on a replay): forget them.
			_, err := tx.Exec(ctx, `DELETE FROM mail_partner_users WHERE user_id = $1`, e.UserID)
			return nil, err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO mail_partner_users (partner_id, user_id, email, first_name, last_name, roles)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (partner_id, user_id) DO UPDATE SET email = EXCLUDED.email,
				first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, roles = EXCLUDED.roles`,
			e.PartnerID, e.UserID, e.Email, e.FirstName, e.LastName, roleNames(e.Roles))
		return nil, err
	case partner.UserRolesChanged:
		_, err := tx.Exec(ctx, `UPDATE mail_partner_users SET roles = $3 WHERE partner_id = $1 AND user_id = $2`,
			e.PartnerID, e.UserID, roleNames(e.Roles))
		return nil, err
	case partner.UserRemoved:
		_, err := tx.Exec(ctx, `DELETE FROM mail_partner_users WHERE partner_id = $1 AND user_id = $2`, e.PartnerID, e.UserID)
		return nil, err
	case account.PartnerVisibilityGranted:
		return c.announceGrants(ctx, tx, env, e.AccountID, e.GranteePartnerID, uuid.Nil, e.SourcePartnerID)
	case account.ChannelPartnerChanged:
		return c.channelChanged(ctx, tx, env, e)
	case benefit.UserAssigned:
		return c.benefitAssigned(ctx, tx, env, e.PartnerID, e.UserID, e.AlternateEmail)
	case benefit.UserReassigned:
		return c.benefitAssigned(ctx, tx, env, e.PartnerID, e.UserID, e.AlternateEmail)
	case benefit.MarketingContactSet:
		return c.marketingContactSet(ctx, tx, env, e)
	}
	return nil, nil
}

// partnerUser is a row of mail_partner_users, as the email needs it.
type partnerUser struct {
	id                         uuid.UUID
	email, firstName, lastName string
}

// recipientKey is the mail_sent key of one recipient's email of an event
// that mails several people: a UUIDv5 of the recipient's id in the event
// id's namespace, the same on every replay.
func recipientKey(eventID, userID uuid.UUID) uuid.UUID { return uuid.NewSHA1(eventID, userID[:]) }

func roleNames(roles []partner.Role) []string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return names
}
