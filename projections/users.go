package projections

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

// Users builds the user directory read model: rm_accounts, rm_users and
// rm_user_invitations. Every statement is an upsert or an idempotent
// update, so applying an event again changes nothing.
type Users struct{}

// Name is permanent.
func (Users) Name() string { return "users" }

// Apply implements Projector.
func (Users) Apply(ctx context.Context, tx pgx.Tx, env event.Envelope) error {
	switch e := env.Event.(type) {
	case account.Registered:
		_, err := tx.Exec(ctx, `
			INSERT INTO rm_accounts (account_id, name, agreement_number, purchase_account_number, registered_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (account_id) DO NOTHING`,
			e.AccountID, e.Name, e.AgreementNumber, e.PurchaseAccountNumber, env.OccurredAt)
		return err
	case user.Invited:
		if _, err := tx.Exec(ctx, `
			INSERT INTO rm_users (user_id, account_id, email, email_lower, first_name, last_name, name_sort,
			                      language, country, roles, status, invited_at, invitation_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $12)
			ON CONFLICT (user_id) DO NOTHING`,
			e.UserID, e.AccountID, e.Email, strings.ToLower(e.Email), e.FirstName, e.LastName,
			strings.ToLower(e.FirstName+" "+e.LastName), e.Language, e.Country, roleStrings(e.Roles),
			e.SentAt, e.ExpiresAt); err != nil {
			return err
		}
		return addInvitation(ctx, tx, e.UserID, e.InvitationID, e.SentAt, e.ExpiresAt, e.InvitedBy)
	case user.InvitationResent:
		if _, err := tx.Exec(ctx, `
			UPDATE rm_users SET invitation_expires_at = $2, invitation_count = invitation_count + 1 WHERE user_id = $1`,
			e.UserID, e.ExpiresAt); err != nil {
			return err
		}
		return addInvitation(ctx, tx, e.UserID, e.InvitationID, e.SentAt, e.ExpiresAt, e.ResentBy)
	case user.InvitationAccepted:
		_, err := tx.Exec(ctx, `
			UPDATE rm_users SET status = 'active', activated_at = $2 WHERE user_id = $1`,
			e.UserID, e.AcceptedAt)
		return err
	}
	return nil
}

func addInvitation(ctx context.Context, tx pgx.Tx, userID, invitationID uuid.UUID, sentAt, expiresAt time.Time, by string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO rm_user_invitations (user_id, invitation_id, sent_at, expires_at, sent_by)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, userID, invitationID, sentAt, expiresAt, by)
	return err
}

func roleStrings(roles []user.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}
