package user

import (
	"time"

	"github.com/google/uuid"
)

// State is a user as the events left it, for auditors (the as-of view).
type State struct {
	UserID              uuid.UUID `json:"userId"`
	AccountID           uuid.UUID `json:"accountId"`
	Email               string    `json:"email"`
	Roles               []Role    `json:"roles"`
	Status              Status    `json:"status"`
	InvitationID        uuid.UUID `json:"invitationId"`
	InvitationExpiresAt time.Time `json:"invitationExpiresAt"`
}

// Snapshot is the state, with the status as it was at the moment asked.
func (u *User) Snapshot(at time.Time) State {
	return State{
		UserID: u.id, AccountID: u.accountID, Email: u.email, Roles: u.Roles(), Status: u.Status(at),
		InvitationID: u.invitationID, InvitationExpiresAt: u.expiresAt,
	}
}
