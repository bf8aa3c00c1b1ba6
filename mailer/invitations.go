package mailer

import (
	"context"
	"errors"
	"net/mail"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
)

// recipient is a row of mail_recipients.
type recipient struct {
	userID, accountID                    uuid.UUID
	email, firstName, lastName, language string
}

// outgoing is an invitation email as decided, before it is claimed.
type outgoing struct {
	env          event.Envelope
	to           recipient
	accountName  string
	invitationID uuid.UUID
	tokenHash    string
	expiresAt    time.Time
	// staleBy names a later event of the batch that made it stale.
	staleBy string
}

// apply records what the mailer needs of an event and claims the emails
// it asks for. stale names the invitations a later event of their batch
// made stale (staleInBatch).
func (c *Consumer) apply(ctx context.Context, tx pgx.Tx, env event.Envelope, stale map[uuid.UUID]string) ([]pending, error) {
	switch e := env.Event.(type) {
	case account.Registered:
		_, err := tx.Exec(ctx, `
			INSERT INTO mail_account_names (account_id, name) VALUES ($1, $2)
			ON CONFLICT (account_id) DO UPDATE SET name = EXCLUDED.name`, e.AccountID, e.Name)
		return nil, err
	case user.PersonalDataErased:
		// The recipient is forgotten; a resend finds nobody to mail. A user
		// id names one person, so a partner user with that id goes too.
		if _, err := tx.Exec(ctx, `DELETE FROM mail_recipients WHERE user_id = $1`, e.UserID); err != nil {
			return nil, err
		}
		_, err := tx.Exec(ctx, `DELETE FROM mail_partner_users WHERE user_id = $1`, e.UserID)
		return nil, err
	case partner.UserPersonalDataErased:
		// Nobody of the partner is mailed at the erased person's address
		// again (grants are announced to the users the mailer knows).
		_, err := tx.Exec(ctx, `DELETE FROM mail_partner_users WHERE user_id = $1`, e.UserID)
		return nil, err
	case user.EmailChanged:
		// The invitation resent with it goes to the new address.
		_, err := tx.Exec(ctx, `UPDATE mail_recipients SET email = $2 WHERE user_id = $1`, e.UserID, e.Email)
		return nil, err
	case user.Invited:
		if e.Email == user.Erased {
			return nil, c.skip(ctx, tx, env, "skipped: personal data erased")
		}
		r := recipient{e.UserID, e.AccountID, e.Email, e.FirstName, e.LastName, e.Language}
		if _, err := tx.Exec(ctx, `
			INSERT INTO mail_recipients (user_id, account_id, email, first_name, last_name, language)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (user_id) DO UPDATE SET account_id = EXCLUDED.account_id, email = EXCLUDED.email,
				first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, language = EXCLUDED.language`,
			r.userID, r.accountID, r.email, r.firstName, r.lastName, r.language); err != nil {
			return nil, err
		}
		return c.decide(ctx, tx, outgoing{env: env, to: r, invitationID: e.InvitationID, tokenHash: e.TokenHash, expiresAt: e.ExpiresAt, staleBy: stale[env.EventID]})
	case user.InvitationResent:
		// The recipient is kept until the erasure's event comes; a person
		// whose key is erased already (the erasure came after this resend,
		// or is half done) is mailed nothing: the link would answer 404,
		// and a grant is announced to no one erased either (announceGrants).
		r := recipient{userID: e.UserID}
		var erased bool
		err := tx.QueryRow(ctx, `
			SELECT account_id, email, first_name, last_name, language,
			       EXISTS (SELECT FROM personal_keys k WHERE k.subject_id = r.user_id AND k.erased_at IS NOT NULL)
			  FROM mail_recipients r WHERE user_id = $1`,
			e.UserID).Scan(&r.accountID, &r.email, &r.firstName, &r.lastName, &r.language, &erased)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, c.skip(ctx, tx, env, "skipped: unknown recipient")
		}
		if err != nil {
			return nil, err
		}
		if erased {
			return nil, c.skip(ctx, tx, env, "skipped: personal data erased")
		}
		return c.decide(ctx, tx, outgoing{env: env, to: r, invitationID: e.InvitationID, tokenHash: e.TokenHash, expiresAt: e.ExpiresAt, staleBy: stale[env.EventID]})
	}
	return c.applyPartner(ctx, tx, env)
}

// decide claims an invitation's email unless it has expired (a replay of
// old history mails nobody) or was claimed before. A late email, or one
// that waited for the relay however young, is not sent once a later
// event of its user made it stale: a wait of seconds would otherwise
// mail an invitation and its resend of meanwhile, the first link
// refused. The wait is read from its row, not remembered, as the
// instance that decides again may not be the one that put it back.
func (c *Consumer) decide(ctx context.Context, tx pgx.Tx, o outgoing) ([]pending, error) {
	if !c.now().Before(o.expiresAt) {
		return nil, c.skip(ctx, tx, o.env, "skipped: expired")
	}
	if o.staleBy != "" {
		return nil, c.skip(ctx, tx, o.env, "skipped: superseded by "+o.staleBy)
	}
	claimed, waited, err := claimOver(ctx, tx, o.env.EventID, "pending")
	if err != nil || !claimed {
		return nil, err
	}
	if waited || c.now().Sub(o.env.OccurredAt) >= lateAfter {
		by, err := c.supersededBy(ctx, o.env)
		if err != nil {
			return nil, err
		}
		if by != "" {
			return nil, c.decideAgain(ctx, tx, o.env, "skipped: superseded by "+by)
		}
	}
	err = tx.QueryRow(ctx, `SELECT name FROM mail_account_names WHERE account_id = $1`, o.to.accountID).Scan(&o.accountName)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	return []pending{{env: o.env, key: o.env.EventID, write: func() (Message, error) { return c.invitation(o) }, decided: c.now()}}, nil
}

// invitation derives the token and writes the invitation email.
func (c *Consumer) invitation(o outgoing) (Message, error) {
	secret := user.InvitationSecret(c.TokenKey, o.invitationID)
	if user.HashSecret(secret) != o.tokenHash {
		return Message{}, errors.New("the token key does not derive the event's token hash (wrong key?)")
	}
	token := user.FormatToken(o.to.userID, secret)
	m, err := RenderInvitation(o.to.language, Invitation{
		FirstName: o.to.firstName, LastName: o.to.lastName, AccountName: o.accountName,
		Token: token, AcceptURL: AcceptURL(c.BaseURL, token), ExpiresAt: o.expiresAt,
	})
	if err != nil {
		return Message{}, err
	}
	m.To = (&mail.Address{Name: PersonName(o.to.language, o.to.firstName, o.to.lastName), Address: o.to.email}).String()
	m.ID = "invitation." + o.env.EventID.String()
	m.Headers["X-Bizcenter-Event-Id"] = o.env.EventID.String()
	return m, nil
}
