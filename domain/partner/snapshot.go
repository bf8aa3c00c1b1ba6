package partner

import (
	"slices"

	"github.com/google/uuid"
)

// State is a partner organization as its events left it, for auditors.
type State struct {
	PartnerID uuid.UUID `json:"partnerId"`
	Name      string    `json:"name"`
	Users     []Member  `json:"users"`
}

// Snapshot is the state.
func (p *Partner) Snapshot() State {
	return State{PartnerID: p.id, Name: p.name, Users: slices.Clone(p.members)}
}
