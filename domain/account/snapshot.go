package account

import "github.com/google/uuid"

// State is an account as the events left it, for auditors.
type State struct {
	AccountID      uuid.UUID   `json:"accountId"`
	Name           string      `json:"name"`
	ManagerUserID  uuid.UUID   `json:"managerUserId"`
	ManagerEmail   string      `json:"managerEmail"`
	Administrators []uuid.UUID `json:"administrators"`
	Domains        []string    `json:"domains"`
	Partners       []uuid.UUID `json:"partners"`
	Grants         []Grant     `json:"partnerVisibility"`
}

// Snapshot is the state.
func (a *Account) Snapshot() State {
	return State{
		AccountID: a.id, Name: a.name, ManagerUserID: a.managerID, ManagerEmail: a.managerEmail,
		Administrators: listed(a.Administrators()), Domains: listed(a.Domains()),
		Partners: listed(a.Partners()), Grants: listed(a.Grants()),
	}
}

// listed is s, or an empty list for none: the as-of view answers [] for
// an account without domains, partners or grants, as every list of the
// API does, where it answered null.
func listed[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
