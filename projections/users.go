package projections

import (
	_ "embed"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
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
func (Users) Version() int { return 11 } // 11: rm_user_counts keeps a recorded expiry in the hour '-infinity'; 10: an expiry's history entry is dated expiredAt; 9: email_lower is composed (NFC); 8: a Unicode domain in xn-- form (user.NormalizeEmail)

// Schema is the DDL of the tables.
func (Users) Schema() string { return usersSchema }

// IndexesServeReadsOnly: its writes find users by id and accounts by id
// (primary keys); the indexes of users.sql serve the read API and the
// sweeper (see ReadIndexes).
func (Users) IndexesServeReadsOnly() {}

// Tables are what readers read.
func (Users) Tables() []string {
	return []string{"rm_accounts", "rm_users", "rm_user_history", "rm_user_counts"}
}

// Apply implements Projector.
func (u Users) Apply(q *pgx.Batch, env event.Envelope) { u.ApplyAll(q, []event.Envelope{env}) }

// ApplyAll implements BatchProjector. A user invited in the batch is
// written once, at the end, with what the batch's later events of that
// user made of it: while catching up, an invitation and its resends,
// acceptance and role changes are one insert rather than an insert and an
// update each (an update of rm_users rewrites every one of its indexes).
// Only this projector writes rm_users, and it writes nothing else about a
// held user, so holding the row back changes no outcome. The other users'
// changes are written after the inserts, in one statement when there are
// several users (see changes), and their history entries appended in one
// statement at the end; the accounts' events, which touch no user's row,
// are written as they come.
func (Users) ApplyAll(q *pgx.Batch, envs []event.Envelope) {
	held := map[uuid.UUID]*userRow{}
	var order []*userRow
	var others histories
	var changed changes
	for _, env := range envs {
		id, entry, isUser := historyEntry(env)
		switch e, invited := env.Event.(user.Invited); {
		case isUser && held[id] != nil:
			held[id].fold(env.Event)
			held[id].history = append(held[id].history, entry)
		case invited:
			r := newUserRow(e)
			r.history = []HistoryEntry{entry}
			held[e.UserID] = r
			order = append(order, r)
		case isUser:
			changed.add(id, env)
			others.add(id, entry)
		default:
			applyUser(q, env)
		}
	}
	for _, r := range order {
		r.insert(q)
	}
	changed.queue(q)
	others.append(q)
}

// userRow is an rm_users row being made from a batch's events.
type userRow struct {
	invited                  user.Invited
	email, first, last, sort string
	roles                    []string
	status                   string
	expires                  time.Time
	count                    int
	expiryRecorded           bool
	activatedAt              *time.Time
	history                  []HistoryEntry
}

func newUserRow(e user.Invited) *userRow {
	return &userRow{invited: e, email: e.Email, first: e.FirstName, last: e.LastName,
		sort: strings.ToLower(e.FirstName + " " + e.LastName), roles: roleStrings(e.Roles),
		status: "pending", expires: e.ExpiresAt, count: 1}
}

// fold is what applyUser does to the row, done to the held row.
func (r *userRow) fold(ev event.Event) {
	switch e := ev.(type) {
	case user.InvitationResent:
		r.expires, r.count, r.expiryRecorded = e.ExpiresAt, r.count+1, false
	case user.InvitationAccepted:
		r.status, r.activatedAt = "active", &e.AcceptedAt
	case user.InvitationExpired:
		r.expiryRecorded = true
	case user.RolesChanged:
		r.roles = roleStrings(e.Roles)
	case user.EmailChanged:
		r.email = e.Email
	case user.PersonalDataErased:
		r.email, r.first, r.last, r.sort = user.Erased, user.Erased, user.Erased, user.Erased
	}
}

func (r *userRow) insert(q *pgx.Batch) {
	e := r.invited
	emailLower := user.NormalizeEmail(r.email)
	if r.email == user.Erased {
		emailLower = user.Erased
	}
	q.Queue(`
		INSERT INTO rm_users (user_id, account_id, email, email_lower, first_name, last_name, name_sort,
		                      language, country, roles, status, invited_at, invitation_expires_at,
		                      invitation_count, invitation_expiry_recorded, activated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (user_id) DO NOTHING`,
		e.UserID, e.AccountID, r.email, emailLower, r.first, r.last, r.sort, e.Language, e.Country, r.roles,
		r.status, e.SentAt, r.expires, r.count, r.expiryRecorded, r.activatedAt)
	q.Queue(`INSERT INTO rm_user_history (user_id, entries) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING`,
		e.UserID, entriesJSON(r.history))
}

// applyUser writes what an event changes in rm_accounts and in the
// rm_users row of a user already written.
func applyUser(q *pgx.Batch, env event.Envelope) {
	switch e := env.Event.(type) {
	case account.Registered:
		q.Queue(`
			INSERT INTO rm_accounts (account_id, name, agreement_number, purchase_account_number, registered_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (account_id) DO NOTHING`,
			e.AccountID, e.Name, e.AgreementNumber, e.PurchaseAccountNumber, env.OccurredAt)
	case user.InvitationResent:
		q.Queue(`
			UPDATE rm_users SET invitation_expires_at = $2, invitation_count = invitation_count + 1,
			       invitation_expiry_recorded = false
			 WHERE user_id = $1`, e.UserID, e.ExpiresAt)
	case user.InvitationAccepted:
		q.Queue(`UPDATE rm_users SET status = 'active', activated_at = $2 WHERE user_id = $1`, e.UserID, e.AcceptedAt)
	case user.InvitationExpired:
		q.Queue(`UPDATE rm_users SET invitation_expiry_recorded = true WHERE user_id = $1`, e.UserID)
	case user.RolesChanged:
		q.Queue(`UPDATE rm_users SET roles = $2 WHERE user_id = $1`, e.UserID, roleStrings(e.Roles))
	case user.EmailChanged:
		q.Queue(`UPDATE rm_users SET email = $2, email_lower = $3 WHERE user_id = $1`, e.UserID, e.Email, user.NormalizeEmail(e.Email))
	case user.PersonalDataErased:
		// At once, without waiting for a rebuild (which reads "[erased]"
		// from the events themselves).
		q.Queue(`
			UPDATE rm_users SET email = $2, email_lower = $2, first_name = $2, last_name = $2, name_sort = $2
			 WHERE user_id = $1`, e.UserID, user.Erased)
	case account.DomainAdded:
		q.Queue(`
			UPDATE rm_accounts SET domains = array_append(domains, $2)
			 WHERE account_id = $1 AND NOT $2 = ANY(domains)`, e.AccountID, e.Domain)
	case account.DomainRemoved:
		q.Queue(`UPDATE rm_accounts SET domains = array_remove(domains, $2) WHERE account_id = $1`, e.AccountID, e.Domain)
	}
}

func roleStrings(roles []user.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = string(r)
	}
	return out
}
