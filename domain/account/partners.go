package account

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
)

// PartnerAssociated: a partner now serves the account (it may order for
// it and see what it ordered).
type PartnerAssociated struct {
	AccountID    uuid.UUID `json:"accountId"`
	PartnerID    uuid.UUID `json:"partnerId"`
	AssociatedBy string    `json:"associatedBy"`
}

// ChannelPartnerChanged: the account moved from one partner to another.
// The previous partner no longer serves the account; everything it
// ordered is now the new partner's, and so are the grants it held as
// grantee. Grants that let others see the previous partner's orders end:
// carried over, they would show them the new partner's own orders too,
// which the customer never allowed. The subscriptions keep who ordered
// them originally.
type ChannelPartnerChanged struct {
	AccountID     uuid.UUID `json:"accountId"`
	FromPartnerID uuid.UUID `json:"fromPartnerId"`
	ToPartnerID   uuid.UUID `json:"toPartnerId"`
	ChangedBy     string    `json:"changedBy"`
}

// PartnerVisibilityGranted: the grantee partner may see what the source
// partner ordered for the account.
type PartnerVisibilityGranted struct {
	AccountID        uuid.UUID `json:"accountId"`
	GranteePartnerID uuid.UUID `json:"granteePartnerId"`
	SourcePartnerID  uuid.UUID `json:"sourcePartnerId"`
	GrantedBy        string    `json:"grantedBy"`
}

// PartnerVisibilityRevoked ends a grant.
type PartnerVisibilityRevoked struct {
	AccountID        uuid.UUID `json:"accountId"`
	GranteePartnerID uuid.UUID `json:"granteePartnerId"`
	SourcePartnerID  uuid.UUID `json:"sourcePartnerId"`
	RevokedBy        string    `json:"revokedBy"`
}

func (PartnerAssociated) EventType() string        { return "account.partner_associated" }
func (ChannelPartnerChanged) EventType() string    { return "account.channel_partner_changed" }
func (PartnerVisibilityGranted) EventType() string { return "account.partner_visibility_granted" }
func (PartnerVisibilityRevoked) EventType() string { return "account.partner_visibility_revoked" }

// Grant is one visibility grant: Grantee sees what Source ordered.
type Grant struct {
	Grantee uuid.UUID `json:"granteePartnerId"`
	Source  uuid.UUID `json:"sourcePartnerId"`
}

// Partners are the partners serving the account, in the order associated.
func (a *Account) Partners() []uuid.UUID { return slices.Clone(a.partners) }

// Serves reports whether a partner serves the account.
func (a *Account) Serves(partnerID uuid.UUID) bool { return slices.Contains(a.partners, partnerID) }

// Grants are the account's visibility grants.
func (a *Account) Grants() []Grant { return slices.Clone(a.grants) }

// ChannelOf is the partner that now answers for what orderedBy ordered:
// orderedBy itself, or where channel changes moved it.
func (a *Account) ChannelOf(orderedBy uuid.UUID) uuid.UUID {
	for range len(a.moves) + 1 { // a chain visits each move at most once
		to, moved := a.moves[orderedBy]
		if !moved {
			break
		}
		orderedBy = to
	}
	return orderedBy
}

func (a *Account) applyPartner(e any) {
	switch e := e.(type) {
	case PartnerAssociated:
		if !a.Serves(e.PartnerID) {
			a.partners = append(a.partners, e.PartnerID)
		}
	case ChannelPartnerChanged:
		a.partners = slices.DeleteFunc(a.partners, func(p uuid.UUID) bool { return p == e.FromPartnerID })
		if !a.Serves(e.ToPartnerID) {
			a.partners = append(a.partners, e.ToPartnerID)
		}
		if a.moves == nil {
			a.moves = map[uuid.UUID]uuid.UUID{}
		}
		a.moves[e.FromPartnerID] = e.ToPartnerID
		a.grants = MoveGrants(a.grants, e.FromPartnerID, e.ToPartnerID)
	case PartnerVisibilityGranted:
		g := Grant{e.GranteePartnerID, e.SourcePartnerID}
		if !slices.Contains(a.grants, g) {
			a.grants = append(a.grants, g)
		}
	case PartnerVisibilityRevoked:
		g := Grant{e.GranteePartnerID, e.SourcePartnerID}
		a.grants = slices.DeleteFunc(a.grants, func(x Grant) bool { return x == g })
	}
}

// MoveGrants is the grants after a channel change from one partner to
// another: the grants from held pass to to; the grants to see what from
// ordered end; a grant of a partner to itself, and duplicates, disappear.
// The read model applies the same rule.
func MoveGrants(grants []Grant, from, to uuid.UUID) []Grant {
	var out []Grant
	for _, g := range grants {
		if g.Source == from {
			continue
		}
		if g.Grantee == from {
			g.Grantee = to
		}
		if g.Grantee != g.Source && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// AssociatePartner lets a partner serve the account (nil: it already
// does). A partner that handed the account over never serves it again:
// what it ordered now answers to its successor, and its new orders would
// be indistinguishable from those (see movedAway).
func (a *Account) AssociatePartner(partnerID uuid.UUID, by string) (*PartnerAssociated, error) {
	if a.Serves(partnerID) {
		return nil, nil
	}
	if err := a.movedAway(partnerID); err != nil {
		return nil, err
	}
	return &PartnerAssociated{AccountID: a.id, PartnerID: partnerID, AssociatedBy: by}, nil
}

// movedAway refuses a partner that handed the account over before. Channel
// changes are recorded per partner, not per order, so a partner's return
// would make its old and new orders alike; refusing it also keeps the
// chain of changes free of cycles.
func (a *Account) movedAway(partnerID uuid.UUID) error {
	if _, gone := a.moves[partnerID]; gone {
		return &domain.RuleError{Code: "partner-moved-away",
			Detail: "partner " + partnerID.String() + " handed this account over to another partner and cannot serve it again"}
	}
	return nil
}

// ChangeChannelPartner moves the account from one partner to another.
func (a *Account) ChangeChannelPartner(from, to uuid.UUID, by string) (ChannelPartnerChanged, error) {
	switch {
	case from == to:
		return ChannelPartnerChanged{}, &domain.RuleError{Code: "same-partner", Detail: "the account cannot move from a partner to itself"}
	case !a.Serves(from):
		return ChannelPartnerChanged{}, notServing(from)
	}
	if err := a.movedAway(to); err != nil {
		return ChannelPartnerChanged{}, err
	}
	return ChannelPartnerChanged{AccountID: a.id, FromPartnerID: from, ToPartnerID: to, ChangedBy: by}, nil
}

// GrantVisibility lets grantee see what source ordered (nil: it already
// may). It needs two partners serving the account, both of these.
func (a *Account) GrantVisibility(grantee, source uuid.UUID, by string) (*PartnerVisibilityGranted, error) {
	if err := a.checkGrant(grantee, source); err != nil {
		return nil, err
	}
	if slices.Contains(a.grants, Grant{grantee, source}) {
		return nil, nil
	}
	return &PartnerVisibilityGranted{AccountID: a.id, GranteePartnerID: grantee, SourcePartnerID: source, GrantedBy: by}, nil
}

// RevokeVisibility ends a grant; ErrNotFound when there is none.
func (a *Account) RevokeVisibility(grantee, source uuid.UUID, by string) (PartnerVisibilityRevoked, error) {
	if !slices.Contains(a.grants, Grant{grantee, source}) {
		return PartnerVisibilityRevoked{}, fmt.Errorf("partner %s holds no grant to see %s: %w", grantee, source, domain.ErrNotFound)
	}
	return PartnerVisibilityRevoked{AccountID: a.id, GranteePartnerID: grantee, SourcePartnerID: source, RevokedBy: by}, nil
}

func (a *Account) checkGrant(grantee, source uuid.UUID) error {
	switch {
	case len(a.partners) < 2:
		return &domain.RuleError{Code: "too-few-partners",
			Detail: "partner visibility needs at least two partners serving the account"}
	case grantee == source:
		return &domain.RuleError{Code: "same-partner", Detail: "a partner always sees what it ordered; choose another source partner"}
	case !a.Serves(grantee):
		return notServing(grantee)
	case !a.Serves(source):
		return notServing(source)
	}
	return nil
}

func notServing(id uuid.UUID) error {
	return &domain.RuleError{Code: "partner-not-associated", Detail: "partner " + id.String() + " does not serve this account"}
}
