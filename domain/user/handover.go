package user

import (
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// ManagerHandoverStarted: while this user was the account's purchase
// account manager, a designation of another manager began, deciding on
// the account as it stood at AccountRevision; the account's event
// follows unless the designation conflicted or stalled. It changes
// nothing about the user. It is written before the account's event so
// that a command acting on the user because they are the manager (a
// change of the manager's email), having read the account before the
// designation, either sees it here or conflicts with it: the user
// stream and the account stream change without a transaction across
// them.
type ManagerHandoverStarted struct {
	UserID          uuid.UUID `json:"userId"`
	AccountID       uuid.UUID `json:"accountId"`
	AccountRevision uint64    `json:"accountRevision"`
	SuccessorID     uuid.UUID `json:"successorId"`
	StartedAt       time.Time `json:"startedAt"`
}

func (ManagerHandoverStarted) EventType() string { return "user.manager_handover_started" }

func init() { event.Register[ManagerHandoverStarted](1) }

// Handover is the latest handover started while the user was the
// manager (ok false when none was).
func (u *User) Handover() (h ManagerHandoverStarted, ok bool) {
	if u.handover == nil {
		return h, false
	}
	return *u.handover, true
}
