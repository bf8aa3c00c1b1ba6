// Package user is the user aggregate: a person invited into one purchase
// account, with roles, and the invitation that makes them active.
package user

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
)

// InvitationValidity is how long an invitation link works.
const InvitationValidity = 60 * 24 * time.Hour

// Status of a user as dashboards show it.
type Status string

const (
	Pending Status = "pending"
	Active  Status = "active"
	Expired Status = "expired"
)

// Stream is the stream of one user.
func Stream(id uuid.UUID) string { return "user-" + id.String() }

// User is the write model of one user: only what decisions need.
type User struct {
	id           uuid.UUID
	accountID    uuid.UUID
	email        string
	roles        []Role
	active       bool
	invitationID uuid.UUID
	tokenHash    string
	// replaced are the token hashes of the invitations to this email that
	// a resend replaced (those sent to an address the user no longer has
	// are not among them).
	replaced  []string
	expiresAt time.Time
	// expiryRecorded: an InvitationExpired was appended for the current
	// invitation.
	expiryRecorded bool
	// erased: the user's personal data was erased.
	erased bool
	// handover is the latest ManagerHandoverStarted.
	handover *ManagerHandoverStarted
}

// Apply folds one event into the state. It never fails.
func (u *User) Apply(e event.Event) {
	switch e := e.(type) {
	case Invited:
		u.id, u.accountID, u.email, u.roles = e.UserID, e.AccountID, e.Email, e.Roles
		u.invitationID, u.tokenHash, u.expiresAt = e.InvitationID, e.TokenHash, e.ExpiresAt
	case InvitationResent:
		if u.tokenHash != "" {
			u.replaced = append(u.replaced, u.tokenHash)
		}
		u.invitationID, u.tokenHash, u.expiresAt = e.InvitationID, e.TokenHash, e.ExpiresAt
		u.expiryRecorded = false
	case InvitationAccepted:
		u.active = true
	case RolesChanged:
		u.roles = e.Roles
	case InvitationExpired:
		u.expiryRecorded = e.InvitationID == u.invitationID
	case EmailChanged:
		// The links sent to the old address are another mailbox's: the
		// resend that follows a pending user's change replaces them with
		// no word of it to whoever holds them.
		u.email = e.Email
		if !u.active {
			u.tokenHash, u.replaced = "", nil
		}
	case PersonalDataErased:
		u.erased, u.email = true, Erased
	case ManagerHandoverStarted:
		u.handover = &e
	}
}

// Erase records a verified erasure of the user's personal data; nil when it
// was already recorded (erasing twice changes nothing).
func (u *User) Erase(by, reason string, at time.Time) *PersonalDataErased {
	if u.erased {
		return nil
	}
	return &PersonalDataErased{UserID: u.id, AccountID: u.accountID, ErasedBy: by, Reason: reason, ErasedAt: at}
}

// Clone is a copy to fold more events into, leaving u as it is.
func (u *User) Clone() *User {
	c := *u
	c.roles, c.replaced = slices.Clone(u.roles), slices.Clone(u.replaced)
	return &c
}

// errErased refuses to invite again, or to another address, someone whose
// personal data is gone: nobody knows where to send it.
var errErased = &domain.RuleError{Code: "user-erased", Detail: "the user's personal data was erased; invite the person anew instead"}

// errRoleForErased refuses a role to someone who acts as nobody; taking
// roles away from them is still a change worth recording.
var errRoleForErased = &domain.RuleError{Code: "user-erased", Detail: "the user's personal data was erased: they act as nobody, " +
	"so no role can be given to them (roles may still be taken away); invite the person anew instead"}

// Erasing reports a user being erased: their key is gone (their email
// reads as erased) and the erasure's event is not yet in their stream.
func (u *User) Erasing() bool { return !u.erased && u.email == Erased }

// Erased reports whether the user's personal data was erased.
func (u *User) Erased() bool { return u.erased }

// Exists reports whether the user was ever invited.
func (u *User) Exists() bool       { return u.id != uuid.Nil }
func (u *User) ID() uuid.UUID      { return u.id }
func (u *User) Account() uuid.UUID { return u.accountID }
func (u *User) Email() string      { return u.email }
func (u *User) Roles() []Role      { return slices.Clone(u.roles) }

// Status at a moment: expiry is decided by the clock, with no event needed.
func (u *User) Status(now time.Time) Status {
	switch {
	case u.active:
		return Active
	case u.expired(now):
		return Expired
	default:
		return Pending
	}
}

// expired reports whether the current invitation has expired at now: from
// its end on, or once its expiry is recorded, whatever now is. A clock
// behind the one that recorded it (another instance's, or one stepped
// back) would otherwise accept an invitation the log says expired
// unaccepted.
func (u *User) expired(now time.Time) bool {
	return u.expiryRecorded || !now.Before(u.expiresAt)
}

// Invitation is what sending an invitation needs besides the user's data.
type Invitation struct {
	ID        uuid.UUID
	TokenHash string
	By        string
	Now       time.Time
}

// Profile is the input of an invitation, as the administrator typed it.
type Profile struct {
	Email, FirstName, LastName, Language, Country string
	Roles                                         []string
}

// Invite validates a profile and invites a new user. Every invalid field is
// reported at once.
func Invite(userID, accountID uuid.UUID, p Profile, inv Invitation) (Invited, error) {
	var verr domain.ValidationError
	var reason string
	add := func(field string) {
		if reason != "" {
			verr.Add(field, reason)
		}
	}
	e := Invited{
		UserID:       userID,
		AccountID:    accountID,
		InvitationID: inv.ID,
		TokenHash:    inv.TokenHash,
		InvitedBy:    inv.By,
		SentAt:       inv.Now,
		ExpiresAt:    inv.Now.Add(InvitationValidity),
	}
	e.Email, reason = checkWorkEmail(p.Email)
	add("email")
	e.FirstName, reason = checkName(p.FirstName)
	add("firstName")
	e.LastName, reason = checkName(p.LastName)
	add("lastName")
	e.Language, reason = checkLanguage(p.Language)
	add("language")
	e.Country, reason = checkCountry(p.Country)
	add("country")
	var at string
	e.Roles, at, reason = normalizeRoles(p.Roles)
	add("roles" + at)
	if err := verr.Err(); err != nil {
		return Invited{}, err
	}
	return e, nil
}

// ValidateProfile reports every invalid field of a profile.
func ValidateProfile(p Profile) error {
	_, err := Invite(uuid.Nil, uuid.Nil, p, Invitation{})
	return err
}

// Resend sends a new invitation, valid for a new period. An active user
// needs none.
func (u *User) Resend(inv Invitation) (InvitationResent, error) {
	if u.active {
		return InvitationResent{}, &domain.RuleError{Code: "user-already-active", Detail: "the user has already accepted an invitation"}
	}
	if u.erased || u.Erasing() {
		return InvitationResent{}, errErased
	}
	return InvitationResent{
		UserID: u.id, AccountID: u.accountID,
		InvitationID: inv.ID, TokenHash: inv.TokenHash, ResentBy: inv.By,
		SentAt: inv.Now, ExpiresAt: inv.Now.Add(InvitationValidity),
	}, nil
}

// Accept checks the token's secret against the newest invitation. It
// returns no event when the user already accepted with it, so a repeat is
// harmless.
func (u *User) Accept(secret []byte, now time.Time) ([]event.Event, error) {
	// An erased person's invitation went with their data: accepting it
	// would make an active user nobody can name.
	if !u.Exists() || u.erased || u.Erasing() {
		return nil, domain.ErrNotFound
	}
	if !secretMatches(secret, u.tokenHash) {
		return u.acceptReplaced(secret)
	}
	if u.active {
		return nil, nil
	}
	if u.expired(now) {
		return nil, &domain.RuleError{Code: "invitation-expired", Detail: "the invitation expired on " + u.expiresAt.UTC().Format(time.RFC3339) + "; ask an administrator to send it again"}
	}
	return []event.Event{InvitationAccepted{UserID: u.id, AccountID: u.accountID, InvitationID: u.invitationID, AcceptedAt: now}}, nil
}

// acceptReplaced answers a secret that is not the current invitation's:
// a link of an invitation a resend replaced says so (a person who opens
// an older email learns to use the newest, not that the link is
// unknown), and changes nothing once the user is active; any other secret
// is not found.
func (u *User) acceptReplaced(secret []byte) ([]event.Event, error) {
	if !slices.ContainsFunc(u.replaced, func(h string) bool { return secretMatches(secret, h) }) {
		return nil, domain.ErrNotFound
	}
	if u.active {
		return nil, nil
	}
	return nil, &domain.RuleError{Code: "invitation-replaced",
		Detail: "a newer invitation was sent to this email; use the link in the latest one"}
}

// ChangeRoles saves a whole new set of roles. It returns nil when the set
// is the same.
func (u *User) ChangeRoles(roles []string, by string, now time.Time) (*RolesChanged, error) {
	next, at, reason := normalizeRoles(roles)
	if reason != "" {
		return nil, &domain.ValidationError{Fields: []domain.FieldError{{Field: "roles" + at, Reason: reason}}}
	}
	added, removed := diffRoles(u.roles, next)
	if len(added) == 0 && len(removed) == 0 {
		return nil, nil
	}
	if u.erased && len(added) > 0 {
		return nil, errRoleForErased
	}
	return &RolesChanged{UserID: u.id, AccountID: u.accountID, Roles: next, Added: added, Removed: removed, ChangedBy: by, ChangedAt: now}, nil
}

func diffRoles(before, after []Role) (added, removed []Role) {
	added, removed = []Role{}, []Role{} // [] in the event when empty, never null
	for _, r := range after {
		if !slices.Contains(before, r) {
			added = append(added, r)
		}
	}
	for _, r := range before {
		if !slices.Contains(after, r) {
			removed = append(removed, r)
		}
	}
	return added, removed
}

// RecordExpiry records that the current invitation expired: once, and only
// when it has.
func (u *User) RecordExpiry(now time.Time) *InvitationExpired {
	if !u.Exists() || u.expiryRecorded || u.Status(now) != Expired {
		return nil
	}
	return &InvitationExpired{UserID: u.id, AccountID: u.accountID, InvitationID: u.invitationID, ExpiredAt: u.expiresAt}
}

// AcceptBySignIn activates a pending user whose email a trusted identity
// provider verified, as accepting the invitation would. It returns nil
// when the email is not the user's, or the user is not pending.
func (u *User) AcceptBySignIn(verifiedEmail string, now time.Time) *InvitationAccepted {
	if !u.Exists() || NormalizeEmail(verifiedEmail) != NormalizeEmail(u.email) || u.Status(now) != Pending {
		return nil
	}
	return &InvitationAccepted{UserID: u.id, AccountID: u.accountID, InvitationID: u.invitationID, AcceptedAt: now}
}
