package projections

import (
	_ "embed"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Users builds the user directory read model (users.sql). Inserts do
// nothing when the row exists, so a replayed event changes nothing; the one
// increment (invitation_count) is guarded by the checkpoint alone.
type Users struct{}

//go:embed users.sql
var usersSchema string

// Name is permanent.
func (Users) Name() string { return "users" }

// Version changes whenever the tables or what Apply writes change; serve
// then builds the new version beside the live one before switching.
func (Users) Version() int { return 3 }

// Schema is the DDL of the tables.
func (Users) Schema() string { return usersSchema }

// Tables are what readers read.
func (Users) Tables() []string {
	return []string{"rm_accounts", "rm_users", "rm_user_invitations", "rm_user_history"}
}

// Apply implements Projector.
func (Users) Apply(q *pgx.Batch, env event.Envelope) {
	switch e := env.Event.(type) {
	case account.Registered:
		q.Queue(`
			INSERT INTO rm_accounts (account_id, name, agreement_number, purchase_account_number, registered_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (account_id) DO NOTHING`,
			e.AccountID, e.Name, e.AgreementNumber, e.PurchaseAccountNumber, env.OccurredAt)
	case user.Invited:
		q.Queue(`
			INSERT INTO rm_users (user_id, account_id, email, email_lower, first_name, last_name, name_sort,
			                      language, country, roles, status, invited_at, invitation_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $12)
			ON CONFLICT (user_id) DO NOTHING`,
			e.UserID, e.AccountID, e.Email, user.NormalizeEmail(e.Email), e.FirstName, e.LastName,
			strings.ToLower(e.FirstName+" "+e.LastName), e.Language, e.Country, roleStrings(e.Roles),
			e.SentAt, e.ExpiresAt)
		q.Queue(insertInvitation, e.UserID, e.InvitationID, e.SentAt, e.ExpiresAt, e.InvitedBy)
		history(q, env, e.UserID, "invited", e.Roles)
	case user.InvitationResent:
		q.Queue(`
			UPDATE rm_users SET invitation_expires_at = $2, invitation_count = invitation_count + 1,
			       invitation_expiry_recorded = false
			 WHERE user_id = $1`, e.UserID, e.ExpiresAt)
		q.Queue(insertInvitation, e.UserID, e.InvitationID, e.SentAt, e.ExpiresAt, e.ResentBy)
		history(q, env, e.UserID, "resent", nil)
	case user.InvitationAccepted:
		q.Queue(`UPDATE rm_users SET status = 'active', activated_at = $2 WHERE user_id = $1`, e.UserID, e.AcceptedAt)
		history(q, env, e.UserID, "accepted", nil)
	case user.InvitationExpired:
		q.Queue(`UPDATE rm_users SET invitation_expiry_recorded = true WHERE user_id = $1`, e.UserID)
		history(q, env, e.UserID, "expired", nil)
	case user.RolesChanged:
		q.Queue(`UPDATE rm_users SET roles = $2 WHERE user_id = $1`, e.UserID, roleStrings(e.Roles))
		history(q, env, e.UserID, "roles_changed", e.Roles)
	case user.EmailChanged:
		q.Queue(`UPDATE rm_users SET email = $2, email_lower = $3 WHERE user_id = $1`, e.UserID, e.Email, user.NormalizeEmail(e.Email))
		history(q, env, e.UserID, "email_changed", nil)
	case user.PersonalDataErased:
		// At once, without waiting for a rebuild (which reads "[erased]"
		// from the events themselves).
		q.Queue(`
			UPDATE rm_users SET email = $2, email_lower = $2, first_name = $2, last_name = $2, name_sort = $2
			 WHERE user_id = $1`, e.UserID, user.Erased)
		history(q, env, e.UserID, "personal_data_erased", nil)
	case account.DomainAdded:
		q.Queue(`
			UPDATE rm_accounts SET domains = array_append(domains, $2)
			 WHERE account_id = $1 AND NOT $2 = ANY(domains)`, e.AccountID, e.Domain)
	case account.DomainRemoved:
		q.Queue(`UPDATE rm_accounts SET domains = array_remove(domains, $2) WHERE account_id = $1`, e.AccountID, e.Domain)
	}
}

// history records one line of a user's history, keyed by the event.
func history(q *pgx.Batch, env event.Envelope, userID uuid.UUID, kind string, roles []user.Role) {
	var r []string
	if roles != nil {
		r = roleStrings(roles)
	}
	pos, _ := eventstore.ParsePosition(env.Position)
	q.Queue(`
		INSERT INTO rm_user_history (event_id, user_id, commit_pos, prepare_pos, at, kind, by, roles)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (event_id) DO NOTHING`, env.EventID, userID, int64(pos.Commit), int64(pos.Prepare), env.OccurredAt, kind, env.Actor, r)
}

const insertInvitation = `
	INSERT INTO rm_user_invitations (user_id, invitation_id, sent_at, expires_at, sent_by)
	VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT DO NOTHING`

func roleStrings(roles []user.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}
