package partner

import (
	"github.com/google/uuid"
)

// State is a partner organization as its events left it, for auditors.
type State struct {
	PartnerID uuid.UUID `json:"partnerId"`
	Name      string    `json:"name"`
	Users     []Member  `json:"users"`
}

// Snapshot is the state. A partner with no users yet lists none as [],
// as every list of the API does (and the account's as-of view): a clone
// of no members was nil, which the view answered as null.
func (p *Partner) Snapshot() State {
	return State{PartnerID: p.id, Name: p.name, Users: append([]Member{}, p.members...)}
}
