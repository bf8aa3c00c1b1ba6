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

func (Invited) EventType() string            { return "user.invited" }
func (InvitationResent) EventType() string   { return "user.invitation_resent" }
func (InvitationAccepted) EventType() string { return "user.invitation_accepted" }

func init() {
	event.Register[Invited](1)
	event.Register[InvitationResent](1)
	event.Register[InvitationAccepted](1)
}
