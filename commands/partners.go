package commands

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/eventstore"
)

// RegisterPartner registers a partner organization with its first global
// admin. Operators only: partners join through an agreement with us.
type RegisterPartner struct {
	By   Actor
	Name string
	// Admin is the first user. The first user is a global admin: roles
	// left out mean global_admin, and roles given must include it.
	Admin partner.Person
}

// PartnerRegistered is the answer.
type PartnerRegistered struct {
	PartnerID, AdminUserID uuid.UUID
	Position               eventstore.Position
}

// RegisterPartnerHandler handles RegisterPartner.
func RegisterPartnerHandler(d Deps) Handler[RegisterPartner, PartnerRegistered] {
	return HandlerFunc[RegisterPartner, PartnerRegistered](func(ctx context.Context, c RegisterPartner) (PartnerRegistered, error) {
		// The route checks the operator claim before any replay, so this
		// check comes first too (see WithIdempotencyKey).
		if !c.By.Operator {
			return PartnerRegistered{}, fmt.Errorf("registering partners is for operators: %w", domain.ErrForbidden)
		}
		by := origin{actor: c.By.name(), at: d.now()}
		id, adminID := d.newID(ctx, "partner"), d.newID(ctx, "partner-admin")
		registered, regErr := partner.Register(id, c.Name, by.actor)
		var p partner.Partner
		p.Apply(registered)
		if len(c.Admin.Roles) == 0 {
			c.Admin.Roles = []string{string(partner.GlobalAdmin)}
		}
		added, addErr := p.AddUser(adminID, c.Admin, partner.Grantor{Roles: partner.AllRoles, Name: by.actor})
		if !slices.Contains(c.Admin.Roles, string(partner.GlobalAdmin)) {
			// Nobody could manage a partner whose only user is no admin.
			addErr = joinValidation(addErr, &domain.ValidationError{Fields: []domain.FieldError{{Field: "roles", Reason: "the first user of a partner is its global admin: include global_admin"}}}, "")
		}
		if err := joinValidation(regErr, addErr, "admin."); err != nil {
			return PartnerRegistered{}, err
		}
		res, err := save(ctx, d, partner.Stream(id), noStream, by, registered, added)
		if err != nil {
			return PartnerRegistered{}, err
		}
		return PartnerRegistered{PartnerID: id, AdminUserID: adminID, Position: res.Position}, nil
	})
}

// AddPartnerUser adds a user to a partner organization: its global admins
// and user management admins may.
type AddPartnerUser struct {
	By        Actor
	PartnerID uuid.UUID
	Person    partner.Person
}

// PartnerUserAdded is the answer.
type PartnerUserAdded struct {
	UserID   uuid.UUID
	Position eventstore.Position
}

// AddPartnerUserHandler handles AddPartnerUser. Run again with its
// idempotency key, it answers as an earlier run that added the user did,
// before it checks the caller's rights, on the one read of the partner
// that the look, the rights and the work share.
func AddPartnerUserHandler(d Deps) Handler[AddPartnerUser, PartnerUserAdded] {
	return HandlerFunc[AddPartnerUser, PartnerUserAdded](func(ctx context.Context, c AddPartnerUser) (PartnerUserAdded, error) {
		by := origin{actor: c.By.name(), at: d.now()}
		userID := d.newID(ctx, "partner-user")
		return retried(ctx, func() (PartnerUserAdded, error) {
			p, l, err := d.loadPartner(ctx, c.PartnerID)
			if err != nil {
				return PartnerUserAdded{}, err
			}
			if e, ok := mine[partner.UserAdded](l); ok {
				return PartnerUserAdded{UserID: e.UserID, Position: l.answered()}, nil
			}
			if err := mayActFor(p, c.By, partner.ManageUsers); err != nil {
				return PartnerUserAdded{}, err
			}
			added, err := p.AddUser(userID, c.Person, grantor(p, c.By, by))
			if err != nil {
				return PartnerUserAdded{}, err
			}
			res, err := save(ctx, d, partner.Stream(c.PartnerID), l, by, added)
			if err != nil {
				return PartnerUserAdded{}, err
			}
			return PartnerUserAdded{UserID: userID, Position: res.Position}, nil
		})
	})
}

// ChangePartnerUser sets a partner user's roles as a whole, or removes
// the user (Remove). Global admins and user management admins may.
type ChangePartnerUser struct {
	By        Actor
	PartnerID uuid.UUID
	UserID    uuid.UUID
	Roles     []string
	Remove    bool
}

// ChangePartnerUserHandler handles ChangePartnerUser; it answers the
// position of the change (or of the partner's last event when nothing
// changed). It runs alone for the partner (PartnerSerial): what its
// users do for it is recorded before, or sees the change. Run again with
// its idempotency key, it answers as an earlier run that appended did,
// before it checks the caller's rights (a removal run again would
// otherwise find no such user): in the turn, on the one read of the
// partner that the look, the rights and the work share.
func ChangePartnerUserHandler(d Deps) Handler[ChangePartnerUser, eventstore.Position] {
	return HandlerFunc[ChangePartnerUser, eventstore.Position](func(ctx context.Context, c ChangePartnerUser) (eventstore.Position, error) {
		by := origin{actor: c.By.name(), at: d.now()}
		return serialized(ctx, d.PartnerSerial, c.PartnerID, func(ctx context.Context) (eventstore.Position, error) {
			return d.changePartnerUser(ctx, c, by)
		})
	})
}

func (d Deps) changePartnerUser(ctx context.Context, c ChangePartnerUser, by origin) (eventstore.Position, error) {
	return retried(ctx, func() (eventstore.Position, error) {
		p, l, err := d.loadPartner(ctx, c.PartnerID)
		if err != nil {
			return eventstore.Position{}, err
		}
		if l.mine != nil {
			return l.answered(), nil
		}
		if err := mayActFor(p, c.By, partner.ManageUsers); err != nil {
			return eventstore.Position{}, err
		}
		var change event.Event
		if c.Remove {
			removed, err := p.RemoveUser(c.UserID, grantor(p, c.By, by))
			if err != nil {
				return eventstore.Position{}, err
			}
			change = removed
		} else {
			changed, err := p.ChangeRoles(c.UserID, c.Roles, grantor(p, c.By, by))
			if err != nil || changed == nil {
				return l.answered(), err
			}
			change = *changed
		}
		res, err := save(ctx, d, partner.Stream(c.PartnerID), l, by, change)
		return res.Position, err
	})
}

// loadPartner loads a partner that must exist.
func (d Deps) loadPartner(ctx context.Context, id uuid.UUID) (*partner.Partner, loaded, error) {
	var p partner.Partner
	l, err := load(ctx, d, partner.Stream(id), &p)
	if err != nil {
		return nil, l, err
	}
	if !p.Exists() {
		return nil, l, fmt.Errorf("partner %s: %w", id, domain.ErrNotFound)
	}
	return &p, l, nil
}

// partnerActing loads a partner and checks that the actor is one of its
// users with a role allowing the action (operators may do anything). An
// actor who is not a user of the partner gets ErrNotFound, so nobody
// learns which partners exist.
func (d Deps) partnerActing(ctx context.Context, id uuid.UUID, a Actor, action partner.Action) (*partner.Partner, loaded, error) {
	p, l, err := d.loadPartner(ctx, id)
	if err != nil {
		return nil, l, err
	}
	if err := mayActFor(p, a, action); err != nil {
		return nil, l, err
	}
	return p, l, nil
}

// mayActFor is partnerActing's check of the actor, on the partner as
// loaded.
func mayActFor(p *partner.Partner, a Actor, action partner.Action) error {
	if a.Operator {
		return nil
	}
	m, ok := p.MemberByEmail(a.Email)
	if !ok || a.Email == "" {
		return fmt.Errorf("partner %s: %w", p.ID(), domain.ErrNotFound)
	}
	if !partner.Allows(m.Roles, action) {
		return fmt.Errorf("your partner roles do not allow %s: %w", action, domain.ErrForbidden)
	}
	return nil
}

// asPartnerUser runs f sharing the partner's turn (PartnerSerial), which
// its users' removals and role changes wait for, when the actor acts as
// one of its users: f checks the actor's user and appends in it. An
// operator's rights do not come from the partner: f runs at once.
func asPartnerUser[T any](ctx context.Context, d Deps, partnerID uuid.UUID, a Actor, f func(context.Context) (T, error)) (T, error) {
	if a.Operator {
		return f(ctx)
	}
	return shared(ctx, d.PartnerSerial, partnerID, f)
}

// grantor is the actor as the partner sees it: one of its users, or an
// operator holding every role.
func grantor(p *partner.Partner, a Actor, by origin) partner.Grantor {
	if a.Operator {
		return partner.Grantor{Roles: partner.AllRoles, Name: by.actor}
	}
	m, _ := p.MemberByEmail(a.Email)
	return partner.Grantor{ID: m.ID, Roles: m.Roles, Name: by.actor}
}
