package user

import (
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// Invited: a user was invited into a purchase account; an invitation email
// goes out and the user is pending until they accept.
type Invited struct {
	UserID       uuid.UUID `json:"userId"`
	AccountID    uuid.UUID `json:"accountId"`
	Email        string    `json:"email"`
	FirstName    string    `json:"firstName"`
	LastName     string    `json:"lastName"`
	Language     string    `json:"language"`
	Country      string    `json:"country"`
	Roles        []Role    `json:"roles"`
	InvitationID uuid.UUID `json:"invitationId"`
	TokenHash    string    `json:"tokenHash"`
	InvitedBy    string    `json:"invitedBy"`
	SentAt       time.Time `json:"sentAt"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

// InvitationResent: a new invitation replaced the previous one, starting a
// new validity period; only the newest token is accepted.
type InvitationResent struct {
	UserID       uuid.UUID `json:"userId"`
	AccountID    uuid.UUID `json:"accountId"`
	InvitationID uuid.UUID `json:"invitationId"`
	TokenHash    string    `json:"tokenHash"`
	ResentBy     string    `json:"resentBy"`
	SentAt       time.Time `json:"sentAt"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

// InvitationAccepted: the user accepted and is active from now on.
type InvitationAccepted struct {
	UserID       uuid.UUID `json:"userId"`
	AccountID    uuid.UUID `json:"accountId"`
	InvitationID uuid.UUID `json:"invitationId"`
	AcceptedAt   time.Time `json:"acceptedAt"`
}

// RolesChanged: an administrator saved a new set of roles for the user.
type RolesChanged struct {
	UserID    uuid.UUID `json:"userId"`
	AccountID uuid.UUID `json:"accountId"`
	Roles     []Role    `json:"roles"`
	Added     []Role    `json:"added"`
	Removed   []Role    `json:"removed"`
	ChangedBy string    `json:"changedBy"`
	ChangedAt time.Time `json:"changedAt"`
}

// InvitationExpired: the invitation passed its 60 days unaccepted. The
// status was already "expired" by the clock; this records it for auditors.
type InvitationExpired struct {
	UserID       uuid.UUID `json:"userId"`
	AccountID    uuid.UUID `json:"accountId"`
	InvitationID uuid.UUID `json:"invitationId"`
	ExpiredAt    time.Time `json:"expiredAt"`
}

// PersonalDataErased: on a verified erasure request an operator destroyed
// the key the user's personal fields (email, names) are sealed with; they
// read as Erased from now on, in every event before and after. It carries
// no personal data itself.
type PersonalDataErased struct {
	UserID    uuid.UUID `json:"userId"`
	AccountID uuid.UUID `json:"accountId"`
	ErasedBy  string    `json:"erasedBy"`
	Reason    string    `json:"reason"`
	ErasedAt  time.Time `json:"erasedAt"`
}

// Erased is what a personal field reads as once its key is gone.
const Erased = "[erased]"

func (PersonalDataErased) EventType() string { return "user.personal_data_erased" }
func (RolesChanged) EventType() string       { return "user.roles_changed" }
func (InvitationExpired) EventType() string  { return "user.invitation_expired" }
func (Invited) EventType() string            { return "user.invited" }
func (InvitationResent) EventType() string   { return "user.invitation_resent" }
func (InvitationAccepted) EventType() string { return "user.invitation_accepted" }

func init() {
	event.Register[Invited](1)
	event.Register[InvitationResent](1)
	event.Register[InvitationAccepted](1)
	event.Register[RolesChanged](1)
	event.Register[InvitationExpired](1)
	event.Register[PersonalDataErased](1)
	event.RegisterPersonal(Invited{}.EventType(), "userId", "email", "firstName", "lastName")
}
