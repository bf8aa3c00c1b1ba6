// Package account is the purchase account aggregate: an organization's
// agreement with its first administrator, the purchase account manager.
package account

import (
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
)

// Registered: an organization signed a purchase agreement; its manager is
// invited as Account Administrator (in the user's own stream).
type Registered struct {
	AccountID             uuid.UUID `json:"accountId"`
	Name                  string    `json:"name"`
	AgreementNumber       string    `json:"agreementNumber"`
	PurchaseAccountNumber string    `json:"purchaseAccountNumber"`
	ManagerUserID         uuid.UUID `json:"managerUserId"`
	ManagerEmail          string    `json:"managerEmail"`
	RegisteredBy          string    `json:"registeredBy"`
}

func (Registered) EventType() string { return "account.registered" }

func init() {
	event.Register[Registered](1)
	// The manager's email is theirs: sealed with the manager's key.
	event.RegisterPersonal(Registered{}.EventType(), "managerUserId", "managerEmail")
	event.Register[AdministratorGranted](1)
	event.Register[AdministratorRevoked](1)
	event.Register[DomainAdded](1)
	event.Register[DomainRemoved](1)
	event.Register[PartnerAssociated](1)
	event.Register[ChannelPartnerChanged](1)
	event.Register[PartnerVisibilityGranted](1)
	event.Register[PartnerVisibilityRevoked](1)
}

// Stream is the stream of one account.
func Stream(id uuid.UUID) string { return "account-" + id.String() }

// Account is the write model of one purchase account.
type Account struct {
	id           uuid.UUID
	name         string
	managerID    uuid.UUID
	managerEmail string
	admins       []uuid.UUID
	domains      []string
	partners     []uuid.UUID
	grants       []Grant
	// moves are the channel changes: from partner -> to partner.
	moves map[uuid.UUID]uuid.UUID
}

// Apply folds one event into the state.
func (a *Account) Apply(e event.Event) {
	switch e := e.(type) {
	case Registered:
		a.id, a.name = e.AccountID, e.Name
		a.managerID, a.managerEmail = e.ManagerUserID, e.ManagerEmail
		a.admins = []uuid.UUID{e.ManagerUserID}
	case AdministratorGranted:
		a.admit(e.UserID)
	case AdministratorRevoked:
		a.admins = slices.DeleteFunc(a.admins, func(id uuid.UUID) bool { return id == e.UserID })
	case ManagerDesignated:
		// Another person designated is made an Account Administrator
		// (user.roles_changed or user.invited). Designations before
		// 2026-12-06 appended no administrator_granted with it: the
		// designation itself counts them, as account.registered does
		// the first manager. The same manager again (a change of email)
		// is no new grant.
		if e.ManagerUserID != a.managerID {
			a.admit(e.ManagerUserID)
		}
		a.managerID, a.managerEmail = e.ManagerUserID, e.ManagerEmail
	case DomainAdded:
		a.domains = append(a.domains, e.Domain)
	case DomainRemoved:
		a.domains = slices.DeleteFunc(a.domains, func(d string) bool { return d == e.Domain })
	default:
		a.applyPartner(e)
	}
}

// Manager is the purchase account manager designated at registration.
func (a *Account) Manager() (uuid.UUID, string) { return a.managerID, a.managerEmail }

// ID is the account's id.
func (a *Account) ID() uuid.UUID { return a.id }

// Exists reports whether the account was registered.
func (a *Account) Exists() bool { return a.id != uuid.Nil }

// Agreement and purchase account numbers: letters, digits and dashes.
var number = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,39}$`)

// NormalizeNumber is the form an agreement or purchase account number is
// kept and matched in: trimmed, as people paste it from the agreement.
// Case is kept: registration tells "AG-1" from "ag-1", so a match must too.
func NormalizeNumber(s string) string { return strings.TrimSpace(s) }

// Register validates and registers an account. The manager's own fields are
// validated by the user aggregate.
func Register(id uuid.UUID, name, agreementNumber, purchaseAccountNumber string, managerUserID uuid.UUID, managerEmail, by string) (Registered, error) {
	var verr domain.ValidationError
	name, why := domain.CheckName(name, 200)
	if why != "" {
		verr.Add("name", why)
	}
	agreementNumber = NormalizeNumber(agreementNumber)
	if !number.MatchString(agreementNumber) {
		verr.Add("agreementNumber", "1 to 40 letters, digits or dashes")
	}
	purchaseAccountNumber = NormalizeNumber(purchaseAccountNumber)
	if !number.MatchString(purchaseAccountNumber) {
		verr.Add("purchaseAccountNumber", "1 to 40 letters, digits or dashes")
	}
	if err := verr.Err(); err != nil {
		return Registered{}, err
	}
	return Registered{
		AccountID: id, Name: name,
		AgreementNumber: agreementNumber, PurchaseAccountNumber: purchaseAccountNumber,
		ManagerUserID: managerUserID, ManagerEmail: managerEmail, RegisteredBy: by,
	}, nil
}
