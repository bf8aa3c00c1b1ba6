package projections

import (
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

// changes gathers a batch's events of users whose row an earlier batch
// wrote, by user, in log order.
type changes struct {
	byUser map[uuid.UUID]*userChange
	order  []*userChange
}

func (c *changes) add(id uuid.UUID, env event.Envelope) {
	if c.byUser == nil {
		c.byUser = map[uuid.UUID]*userChange{}
	}
	uc := c.byUser[id]
	if uc == nil {
		uc = &userChange{id: id}
		c.byUser[id] = uc
		c.order = append(c.order, uc)
	}
	uc.fold(env.Event)
	uc.envs = append(uc.envs, env)
}

// queue writes the changes: one UPDATE for all the users when there are
// several, rather than one an event. A catch-up of a log where users are
// resent, accept or change roles days after their invitation is mostly
// such events, and each UPDATE of rm_users also runs its count trigger;
// one statement of many rows costs little more than one of one. A single
// user's events (live, almost always) keep their plain statements.
func (c *changes) queue(q *pgx.Batch) {
	switch len(c.order) {
	case 0:
		return
	case 1:
		for _, env := range c.order[0].envs {
			applyUser(q, env)
		}
		return
	}
	n := len(c.order)
	var (
		ids                        = make([]uuid.UUID, n)
		expires, activated         = make([]*time.Time, n), make([]*time.Time, n)
		added                      = make([]int32, n)
		recorded                   = make([]*bool, n)
		status, roles, email, name = make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
		emailLower                 = make([]*string, n)
	)
	for i, uc := range c.order {
		ids[i], expires[i], activated[i], added[i], recorded[i] = uc.id, uc.expires, uc.activated, int32(uc.added), uc.recorded
		status[i], roles[i], email[i], emailLower[i], name[i] = uc.status, uc.roles, uc.email, uc.emailLower, uc.name
	}
	// Each column keeps its value where the user's events left it alone
	// (NULL); roles travel as one text a user, since unnest flattens an
	// array of arrays.
	q.Queue(`
		UPDATE rm_users u SET
		       invitation_expires_at = coalesce(v.expires, u.invitation_expires_at),
		       invitation_count = u.invitation_count + v.added,
		       invitation_expiry_recorded = coalesce(v.recorded, u.invitation_expiry_recorded),
		       status = coalesce(v.status, u.status),
		       activated_at = CASE WHEN v.activated IS NULL THEN u.activated_at ELSE v.activated END,
		       roles = coalesce(string_to_array(v.roles, ','), u.roles),
		       email = coalesce(v.email, u.email),
		       email_lower = coalesce(v.email_lower, u.email_lower),
		       first_name = coalesce(v.name, u.first_name),
		       last_name = coalesce(v.name, u.last_name),
		       name_sort = coalesce(v.name, u.name_sort)
		  FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::bool[], $5::text[], $6::timestamptz[],
		              $7::text[], $8::text[], $9::text[], $10::text[])
		       AS v (id, expires, added, recorded, status, activated, roles, email, email_lower, name)
		 WHERE u.user_id = v.id`,
		ids, expires, added, recorded, status, activated, roles, email, emailLower, name)
}

// userChange is what a batch's events do to a user's existing row, as
// applyUser's statements would one after another: nil leaves a column as
// it is.
type userChange struct {
	id                 uuid.UUID
	envs               []event.Envelope
	expires, activated *time.Time
	added              int
	recorded           *bool
	status, roles      *string
	email, emailLower  *string
	name               *string // first, last and sort name: only an erasure sets them
}

func (uc *userChange) fold(ev event.Event) {
	switch e := ev.(type) {
	case user.InvitationResent:
		uc.expires, uc.added, uc.recorded = &e.ExpiresAt, uc.added+1, ptr(false)
	case user.InvitationAccepted:
		uc.status, uc.activated = ptr("active"), &e.AcceptedAt
	case user.InvitationExpired:
		uc.recorded = ptr(true)
	case user.RolesChanged:
		uc.roles = ptr(strings.Join(roleStrings(e.Roles), ","))
	case user.EmailChanged:
		uc.email, uc.emailLower = &e.Email, ptr(user.NormalizeEmail(e.Email))
	case user.PersonalDataErased:
		uc.email, uc.emailLower, uc.name = ptr(user.Erased), ptr(user.Erased), ptr(user.Erased)
	}
}

func ptr[T any](v T) *T { return &v }
