package account

import (
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// ManagerDesignated: the account's purchase account manager is now this
// user, at this email (another person, or the same person at a corrected
// email). Resend requests match against it from now on.
type ManagerDesignated struct {
	AccountID     uuid.UUID `json:"accountId"`
	ManagerUserID uuid.UUID `json:"managerUserId"`
	ManagerEmail  string    `json:"managerEmail"`
	DesignatedBy  string    `json:"designatedBy"`
}

// ManagerHandoverLapsed: a designation of another manager began
// (user.manager_handover_started on the manager's stream) and stalled for
// over a minute before recording the account, and a change of the
// manager's email went ahead. The event moves the account's stream past
// the revision the designation read, so that its record, should it still
// come, conflicts (the designation is then tried again, after the
// change) instead of landing in the middle of the change. It changes
// nothing about the account.
type ManagerHandoverLapsed struct {
	AccountID     uuid.UUID `json:"accountId"`
	ManagerUserID uuid.UUID `json:"managerUserId"`
	SuccessorID   uuid.UUID `json:"successorId"`
	StartedAt     time.Time `json:"startedAt"`
	LapsedAt      time.Time `json:"lapsedAt"`
}

func (ManagerDesignated) EventType() string     { return "account.manager_designated" }
func (ManagerHandoverLapsed) EventType() string { return "account.manager_handover_lapsed" }

func init() {
	event.Register[ManagerDesignated](1)
	event.Register[ManagerHandoverLapsed](1)
	event.RegisterPersonal(ManagerDesignated{}.EventType(), "managerUserId", "managerEmail")
}

// DesignateManager names the purchase account manager (nil: already so).
// normalizedEmail is the user's email, trimmed and lower-cased.
func (a *Account) DesignateManager(userID uuid.UUID, normalizedEmail, by string) *ManagerDesignated {
	if a.managerID == userID && a.managerEmail == normalizedEmail {
		return nil
	}
	return &ManagerDesignated{AccountID: a.id, ManagerUserID: userID, ManagerEmail: normalizedEmail, DesignatedBy: by}
}
