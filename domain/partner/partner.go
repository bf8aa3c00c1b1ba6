// Package partner is the partner organization aggregate: a reseller that
// orders subscriptions for customer accounts, with its own users and
// partner-side roles. One stream holds the organization and its user
// directory, so an email is unique within a partner by construction.
package partner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

// Registered: a partner organization joined the business center.
type Registered struct {
	PartnerID    uuid.UUID `json:"partnerId"`
	Name         string    `json:"name"`
	RegisteredBy string    `json:"registeredBy"`
}

// UserAdded: a person of the partner organization may act for it.
type UserAdded struct {
	PartnerID uuid.UUID `json:"partnerId"`
	UserID    uuid.UUID `json:"userId"`
	Email     string    `json:"email"`
	FirstName string    `json:"firstName"`
	LastName  string    `json:"lastName"`
	Roles     []Role    `json:"roles"`
	AddedBy   string    `json:"addedBy"`
}

// UserRolesChanged: a partner user's roles are now exactly Roles.
type UserRolesChanged struct {
	PartnerID uuid.UUID `json:"partnerId"`
	UserID    uuid.UUID `json:"userId"`
	Roles     []Role    `json:"roles"`
	ChangedBy string    `json:"changedBy"`
}

// UserRemoved: the person no longer acts for the partner.
type UserRemoved struct {
	PartnerID uuid.UUID `json:"partnerId"`
	UserID    uuid.UUID `json:"userId"`
	RemovedBy string    `json:"removedBy"`
}

func (Registered) EventType() string       { return "partner.registered" }
func (UserAdded) EventType() string        { return "partner.user_added" }
func (UserRolesChanged) EventType() string { return "partner.user_roles_changed" }
func (UserRemoved) EventType() string      { return "partner.user_removed" }

func init() {
	event.Register[Registered](1)
	event.Register[UserAdded](1)
	event.RegisterPersonal(UserAdded{}.EventType(), "userId", "email", "firstName", "lastName")
	event.Register[UserRolesChanged](1)
	event.Register[UserRemoved](1)
}

// Stream is the stream of one partner organization.
func Stream(id uuid.UUID) string { return "partner-" + id.String() }

// StreamID is the partner whose stream this is (ok false: not a
// partner's stream).
func StreamID(stream string) (id uuid.UUID, ok bool) {
	rest, ok := strings.CutPrefix(stream, "partner-")
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}

// Member is one user of a partner, as decisions need it.
type Member struct {
	ID    uuid.UUID `json:"userId"`
	Email string    `json:"email"` // normalized
	Roles []Role    `json:"roles"`
}

// Partner is the write model of one partner organization.
type Partner struct {
	id      uuid.UUID
	name    string
	members []Member
	// people is everyone ever added, removed since or not, and whether
	// their personal data was erased.
	people map[uuid.UUID]bool
}

// Apply folds one event into the state.
func (p *Partner) Apply(e event.Event) {
	switch e := e.(type) {
	case Registered:
		p.id, p.name = e.PartnerID, e.Name
	case UserAdded:
		p.members = append(p.members, Member{ID: e.UserID, Email: user.NormalizeEmail(e.Email), Roles: e.Roles})
		p.person(e.UserID, false)
	case UserPersonalDataErased:
		p.person(e.UserID, true)
	case UserRolesChanged:
		if i := p.index(e.UserID); i >= 0 {
			p.members[i].Roles = e.Roles
		}
	case UserRemoved:
		if i := p.index(e.UserID); i >= 0 {
			p.members = slices.Delete(p.members, i, i+1)
		}
	}
}

// person notes someone ever added, erased or not; erased stays once set.
func (p *Partner) person(id uuid.UUID, erased bool) {
	if p.people == nil {
		p.people = map[uuid.UUID]bool{}
	}
	p.people[id] = p.people[id] || erased
}

func (p *Partner) index(userID uuid.UUID) int {
	return slices.IndexFunc(p.members, func(m Member) bool { return m.ID == userID })
}

// ID is the partner's id.
func (p *Partner) ID() uuid.UUID { return p.id }

// Name is the organization's name.
func (p *Partner) Name() string { return p.name }

// Exists reports whether the partner was registered.
func (p *Partner) Exists() bool { return p.id != uuid.Nil }

// MemberByEmail is the user with this email (ok false: nobody).
func (p *Partner) MemberByEmail(email string) (Member, bool) {
	email = user.NormalizeEmail(email)
	i := slices.IndexFunc(p.members, func(m Member) bool { return m.Email == email })
	if i < 0 {
		return Member{}, false
	}
	return p.members[i], true
}

// Member is the user with this id (ok false: not a user of the partner).
func (p *Partner) Member(id uuid.UUID) (Member, bool) {
	if i := p.index(id); i >= 0 {
		return p.members[i], true
	}
	return Member{}, false
}

// Register validates and registers a partner organization.
func Register(id uuid.UUID, name, by string) (Registered, error) {
	name, why := domain.CheckName(name, 200)
	var verr domain.ValidationError
	if why != "" {
		verr.Add("name", why)
	}
	if err := verr.Err(); err != nil {
		return Registered{}, err
	}
	return Registered{PartnerID: id, Name: name, RegisteredBy: by}, nil
}

// Person is what adding a partner user takes.
type Person struct {
	Email, FirstName, LastName string
	Roles                      []string
}

// AddUser validates a new user of the partner. The email must be free
// within the partner (ErrConflict otherwise).
func (p *Partner) AddUser(id uuid.UUID, in Person, by Grantor) (UserAdded, error) {
	var verr domain.ValidationError
	email, why := user.CheckEmail(in.Email)
	if why != "" {
		verr.Add("email", why)
	}
	first, why := user.CheckName(in.FirstName)
	if why != "" {
		verr.Add("firstName", why)
	}
	last, why := user.CheckName(in.LastName)
	if why != "" {
		verr.Add("lastName", why)
	}
	roles, at, why := ParseRoles(in.Roles)
	if why != "" {
		verr.Add("roles"+at, why)
	}
	if err := verr.Err(); err != nil {
		return UserAdded{}, err
	}
	if err := by.mayTouch(roles); err != nil {
		return UserAdded{}, err
	}
	if _, taken := p.MemberByEmail(email); taken {
		// Not naming the email: the answer may be kept under an
		// idempotency key, and replayed, after the person's erasure.
		return UserAdded{}, fmt.Errorf("the email is already a user of this partner: %w", domain.ErrConflict)
	}
	return UserAdded{PartnerID: p.id, UserID: id, Email: email, FirstName: first, LastName: last, Roles: roles, AddedBy: by.Name}, nil
}

// ChangeRoles sets a user's roles as a whole (nil: nothing changes). The
// partner keeps at least one global admin, nobody changes their own
// roles, and an erased user is given none.
func (p *Partner) ChangeRoles(userID uuid.UUID, in []string, by Grantor) (*UserRolesChanged, error) {
	m, ok := p.Member(userID)
	if !ok {
		return nil, fmt.Errorf("partner user %s: %w", userID, domain.ErrNotFound)
	}
	roles, at, why := ParseRoles(in)
	if why != "" {
		return nil, &domain.ValidationError{Fields: []domain.FieldError{{Field: "roles" + at, Reason: why}}}
	}
	if slices.Equal(roles, m.Roles) {
		return nil, nil
	}
	if by.ID == userID {
		return nil, fmt.Errorf("nobody changes their own partner roles: %w", domain.ErrForbidden)
	}
	if err := by.mayTouch(append(slices.Clone(roles), m.Roles...)); err != nil {
		return nil, err
	}
	if p.erased(m) && slices.ContainsFunc(roles, func(r Role) bool { return !slices.Contains(m.Roles, r) }) {
		return nil, errRoleForErased
	}
	if !slices.Contains(roles, GlobalAdmin) && p.lastGlobalAdmin(m) {
		return nil, &domain.RuleError{Code: "last-global-admin", Detail: "a partner keeps at least one global admin"}
	}
	return &UserRolesChanged{PartnerID: p.id, UserID: userID, Roles: roles, ChangedBy: by.Name}, nil
}

// RemoveUser removes a user; the last global admin stays.
func (p *Partner) RemoveUser(userID uuid.UUID, by Grantor) (UserRemoved, error) {
	m, ok := p.Member(userID)
	if !ok {
		return UserRemoved{}, fmt.Errorf("partner user %s: %w", userID, domain.ErrNotFound)
	}
	if err := by.mayTouch(m.Roles); err != nil {
		return UserRemoved{}, err
	}
	if p.lastGlobalAdmin(m) {
		return UserRemoved{}, &domain.RuleError{Code: "last-global-admin", Detail: "a partner keeps at least one global admin"}
	}
	return UserRemoved{PartnerID: p.id, UserID: userID, RemovedBy: by.Name}, nil
}

// lastGlobalAdmin reports whether m is the partner's only global admin
// who can act. Removing, demoting or erasing them is refused; one who
// acts for nobody already (erased) may go whatever remains.
func (p *Partner) lastGlobalAdmin(m Member) bool {
	if !p.actingGlobalAdmin(m) {
		return false
	}
	for _, o := range p.members {
		if o.ID != m.ID && p.actingGlobalAdmin(o) {
			return false
		}
	}
	return true
}

// actingGlobalAdmin reports whether m is a global admin who can act.
func (p *Partner) actingGlobalAdmin(m Member) bool {
	return slices.Contains(m.Roles, GlobalAdmin) && !p.erased(m)
}

// erased reports whether m's personal data was erased, or is being (their
// key gone: their email reads "[erased]"): they act as nobody.
func (p *Partner) erased(m Member) bool { return p.people[m.ID] || m.Email == user.Erased }

// errRoleForErased refuses a role to a user who acts as nobody: it would
// give nobody anything, yet list them among its holders and publish it
// about a person consumers were told to forget. Taking roles away from
// them is still a change worth recording.
var errRoleForErased = &domain.RuleError{Code: "user-erased", Detail: "the user's personal data was erased: they act as nobody, " +
	"so no role can be given to them (roles may still be taken away); add the person anew instead"}

// MayErase refuses to erase the partner's last global admin who can act,
// as removing them is refused: erased, they act as nobody, and nobody
// could manage the partner. Another user is made global admin first.
func (p *Partner) MayErase(userID uuid.UUID) error {
	if m, ok := p.Member(userID); ok && p.lastGlobalAdmin(m) {
		return &domain.RuleError{Code: "last-global-admin", Detail: "a partner keeps at least one global admin: make another user global admin first"}
	}
	return nil
}
