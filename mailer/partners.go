package mailer

import (
	"context"
	"fmt"
	"net/mail"

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
		return c.visibilityGranted(ctx, tx, env, e)
	case benefit.UserAssigned:
		return c.benefitAssigned(ctx, tx, env, e.PartnerID, e.UserID, e.AlternateEmail)
	case benefit.UserReassigned:
		return c.benefitAssigned(ctx, tx, env, e.PartnerID, e.UserID, e.AlternateEmail)
	}
	return nil, nil
}

// partnerUser is a row of mail_partner_users, as the email needs it.
type partnerUser struct {
	id                         uuid.UUID
	email, firstName, lastName string
}

// visibilityGranted claims one email to each global admin and admin agent
// the grantee has when the grant is applied. The event's own row in
// mail_sent marks the grant as handled, so a replay mails nobody, not even
// a user added since; each recipient's row (recipientKey) holds the
// outcome of their email. A grant revoked before the mailer got to it is
// still announced: it happened.
func (c *Consumer) visibilityGranted(ctx context.Context, tx pgx.Tx, env event.Envelope, e account.PartnerVisibilityGranted) ([]pending, error) {
	rows, _ := tx.Query(ctx, `
		SELECT user_id, email, first_name, last_name FROM mail_partner_users
		WHERE partner_id = $1 AND roles && $2::text[] ORDER BY user_id`, e.GranteePartnerID, grantRecipientRoles)
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (partnerUser, error) {
		var u partnerUser
		err := row.Scan(&u.id, &u.email, &u.firstName, &u.lastName)
		return u, err
	})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, c.skip(ctx, tx, env, "skipped: the grantee has no global admin or admin agent")
	}
	claimed, err := claim(ctx, tx, env.EventID, fmt.Sprintf("one email a recipient: %d", len(users)))
	if err != nil || !claimed {
		return nil, err
	}
	v := VisibilityGranted{
		AccountID: e.AccountID, PartnerID: e.GranteePartnerID, SourcePartnerID: e.SourcePartnerID,
		ViewURL: SubscriptionsURL(c.BaseURL, e.GranteePartnerID, e.AccountID), GrantedAt: env.OccurredAt,
	}
	if err := tx.QueryRow(ctx, `
		SELECT coalesce((SELECT name FROM mail_account_names WHERE account_id = $1), ''),
		       coalesce((SELECT name FROM mail_partner_names WHERE partner_id = $2), ''),
		       coalesce((SELECT name FROM mail_partner_names WHERE partner_id = $3), '')`,
		e.AccountID, e.GranteePartnerID, e.SourcePartnerID).Scan(&v.AccountName, &v.PartnerName, &v.SourcePartnerName); err != nil {
		return nil, err
	}
	var out []pending
	for _, u := range users {
		key := recipientKey(env.EventID, u.id)
		ok, err := claim(ctx, tx, key, "pending")
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, pending{env: env, key: key, write: func() (Message, error) { return visibilityMessage(env, key, u, v) }})
		}
	}
	return out, nil
}

// recipientKey is the mail_sent key of one recipient's email of an event
// that mails several people: a UUIDv5 of the recipient's id in the event
// id's namespace, the same on every replay.
func recipientKey(eventID, userID uuid.UUID) uuid.UUID { return uuid.NewSHA1(eventID, userID[:]) }

// visibilityMessage writes one recipient's visibility-granted email.
func visibilityMessage(env event.Envelope, key uuid.UUID, u partnerUser, v VisibilityGranted) (Message, error) {
	v.FirstName, v.LastName = u.firstName, u.lastName
	m, err := RenderVisibilityGranted(partnerLanguage, v)
	if err != nil {
		return Message{}, err
	}
	m.To = (&mail.Address{Name: PersonName(partnerLanguage, u.firstName, u.lastName), Address: u.email}).String()
	m.ID = "visibility-granted." + key.String()
	m.Headers["X-Bizcenter-Event-Id"] = env.EventID.String()
	return m, nil
}

func roleNames(roles []partner.Role) []string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return names
}
