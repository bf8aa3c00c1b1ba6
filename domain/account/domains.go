package account

import (
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/internal/idn"
)

// DomainAdded: people whose email ends with this domain belong to the
// account's organization.
type DomainAdded struct {
	AccountID uuid.UUID `json:"accountId"`
	Domain    string    `json:"domain"`
	AddedBy   string    `json:"addedBy"`
}

// DomainRemoved: the domain no longer belongs to the account.
type DomainRemoved struct {
	AccountID uuid.UUID `json:"accountId"`
	Domain    string    `json:"domain"`
	RemovedBy string    `json:"removedBy"`
}

func (DomainAdded) EventType() string   { return "account.domain_added" }
func (DomainRemoved) EventType() string { return "account.domain_removed" }

// NormalizeDomain writes a domain given in Unicode in its xn-- form
// (idn.ASCIIDomain), lower-cases it, and checks it is a DNS name. IDNA
// maps the name as typed, as user.NormalizeEmail maps an email's domain:
// lower-casing first would make some names another (ẞ is ss to IDNA, ß to
// strings.ToLower; İ is i̇ to IDNA, i to strings.ToLower), and the
// account's domain would not be its users' emails'.
func NormalizeDomain(s string) (string, error) {
	d, ok := idn.ASCIIDomain(strings.TrimSpace(s))
	d = strings.TrimSuffix(strings.ToLower(d), ".")
	if !ok || !domain.IsDNSName(d) {
		return "", &domain.ValidationError{Fields: []domain.FieldError{{Field: "domain", Reason: "not a DNS name like contoso.com or 회사.한국"}}}
	}
	return d, nil
}

// CheckNewDomain refuses a normalized domain to add whose labels claim to
// be an internationalised name's (xn--) but are none (idn.ALabelsValid):
// "xn--a.com" is no name anyone types, and would be listed and reserved
// for the account. It refuses a consumer mail service's domain too
// (gmail.com): that is no organization's, nobody may be invited at it
// (a personal mailbox), and reserved, it would be held against every
// other account. A removal takes both: one added before these checks must
// still be removable.
func CheckNewDomain(d string) error {
	why := ""
	switch {
	case !idn.ALabelsValid(d):
		why = "an xn-- label that is no internationalised name's; give the name as typed, like 회사.한국"
	case domain.PersonalMailDomain(d):
		why = "a consumer mail service's domain, no organization's: give the domain of your people's work accounts, like contoso.com"
	}
	if why != "" {
		return &domain.ValidationError{Fields: []domain.FieldError{{Field: "domain", Reason: why}}}
	}
	return nil
}

// Domains are the account's domains, in the order added.
func (a *Account) Domains() []string { return slices.Clone(a.domains) }

// AddDomain associates a normalized domain (nil if it already is).
func (a *Account) AddDomain(d, by string) *DomainAdded {
	if slices.Contains(a.domains, d) {
		return nil
	}
	return &DomainAdded{AccountID: a.id, Domain: d, AddedBy: by}
}

// RemoveDomain dissociates a domain (nil if it was not associated).
func (a *Account) RemoveDomain(d, by string) *DomainRemoved {
	if !slices.Contains(a.domains, d) {
		return nil
	}
	return &DomainRemoved{AccountID: a.id, Domain: d, RemovedBy: by}
}
