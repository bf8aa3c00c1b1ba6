package account

import (
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

func (ManagerDesignated) EventType() string { return "account.manager_designated" }

func init() {
	event.Register[ManagerDesignated](1)
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
