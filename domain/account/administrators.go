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

// RevokeAdministrator removes an administrator (a change of roles that
// takes the role away, or the erasure of the user's personal data),
// unless the account would lose its last active one: an account must
// always keep an administrator who can manage it. active says whether the
// user leaving is active; othersActive counts the other administrators
// who are (active, and not erased). One who never signed in may leave
// whatever remains: the account has no fewer active administrators after.
func (a *Account) RevokeAdministrator(userID uuid.UUID, active bool, othersActive int, by string) (*AdministratorRevoked, error) {
	if !slices.Contains(a.admins, userID) {
		return nil, nil
	}
	if active && othersActive == 0 {
		return nil, ErrLastAdministrator
	}
	return &AdministratorRevoked{AccountID: a.id, UserID: userID, RevokedBy: by}, nil
}

// ErrLastAdministrator refuses to take Account Administrator from the
// account's last active one, by a change of roles or an erasure.
var ErrLastAdministrator = &domain.RuleError{Code: "last-account-administrator",
	Detail: "the account must keep at least one active Account Administrator: make another active user Account Administrator first"}

// admit counts a user among the administrators, once.
func (a *Account) admit(userID uuid.UUID) {
	if !slices.Contains(a.admins, userID) {
		a.admins = append(a.admins, userID)
	}
}
