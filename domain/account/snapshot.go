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
		Administrators: a.Administrators(), Domains: a.Domains(),
		Partners: a.Partners(), Grants: a.Grants(),
	}
}
