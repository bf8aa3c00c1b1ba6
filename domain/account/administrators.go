package account

import (
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
)

// AdministratorGranted: a user now holds Account Administrator. The
// account keeps its administrators so that it can refuse to lose the last
// one.
type AdministratorGranted struct {
	AccountID uuid.UUID `json:"accountId"`
	UserID    uuid.UUID `json:"userId"`
	GrantedBy string    `json:"grantedBy"`
}

// AdministratorRevoked: a user no longer holds Account Administrator.
type AdministratorRevoked struct {
	AccountID uuid.UUID `json:"accountId"`
	UserID    uuid.UUID `json:"userId"`
	RevokedBy string    `json:"revokedBy"`
}

func (AdministratorGranted) EventType() string { return "account.administrator_granted" }
func (AdministratorRevoked) EventType() string { return "account.administrator_revoked" }

// Administrators are the users holding Account Administrator.
func (a *Account) Administrators() []uuid.UUID { return slices.Clone(a.admins) }

// GrantAdministrator records a new administrator (nil if already one).
func (a *Account) GrantAdministrator(userID uuid.UUID, by string) *AdministratorGranted {
	if slices.Contains(a.admins, userID) {
		return nil
	}
	return &AdministratorGranted{AccountID: a.id, UserID: userID, GrantedBy: by}
}

// RevokeAdministrator removes an administrator, unless no other active
// administrator would remain: an account must always have one who can
// manage it. othersActive counts the other administrators who are active.
func (a *Account) RevokeAdministrator(userID uuid.UUID, othersActive int, by string) (*AdministratorRevoked, error) {
	if !slices.Contains(a.admins, userID) {
		return nil, nil
	}
	if othersActive == 0 {
		return nil, &domain.RuleError{Code: "last-account-administrator", Detail: "the account must keep at least one active Account Administrator"}
	}
	return &AdministratorRevoked{AccountID: a.id, UserID: userID, RevokedBy: by}, nil
}

// admit counts a user among the administrators, once.
func (a *Account) admit(userID uuid.UUID) {
	if !slices.Contains(a.admins, userID) {
		a.admins = append(a.admins, userID)
	}
}
