package benefit

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/partner"
)

// phone: an international number, digits with spaces, dashes, dots or
// brackets, 6 to 15 digits.
var phone = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{4,22}[0-9]$`)

// SetMarketingContact names the user of the partner who runs the
// package's go-to-market benefits, with an alternate email (not their
// sign-in email), a phone and a preferred language (nil: no change).
func (p *Package) SetMarketingContact(m partner.Member, alternateEmail, phoneNumber, language, by string) (*MarketingContactSet, error) {
	if p.cancelled {
		return nil, &domain.RuleError{Code: "package-cancelled", Detail: "the benefit package was cancelled"}
	}
	if !p.has(GoToMarket) {
		return nil, &domain.RuleError{Code: "no-go-to-market-benefits", Detail: "the package has no go-to-market benefits"}
	}
	var verr domain.ValidationError
	alt, err := checkAlternate(GoToMarket, m, alternateEmail)
	var invalid *domain.ValidationError
	switch {
	case errors.As(err, &invalid):
		verr.Fields = append(verr.Fields, invalid.Fields...)
	case err != nil:
		return nil, err
	}
	phoneNumber = strings.TrimSpace(phoneNumber)
	if n := countDigits(phoneNumber); !phone.MatchString(phoneNumber) || n < 6 || n > 15 {
		verr.Add("phone", "an international phone number like +82 2 1234 5678")
	}
	lang, ok := CheckLanguage(language)
	if !ok || lang == "" {
		verr.Add("language", "one of the product languages: "+languageList())
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	next := Contact{UserID: m.ID, AlternateEmail: alt, Phone: phoneNumber, Language: lang}
	if p.contact != nil && *p.contact == next {
		return nil, nil
	}
	return &MarketingContactSet{PackageID: p.id, PartnerID: p.partnerID, UserID: m.ID, AlternateEmail: alt,
		Phone: phoneNumber, Language: lang, SetBy: by}, nil
}

// ActivateGoToMarket activates a go-to-market benefit, which needs the
// marketing contact first; it is active until its term has run (nil: it
// is active already).
func (p *Package) ActivateGoToMarket(id uuid.UUID, by string, now time.Time) (*Activated, error) {
	s, err := p.usable(id, "activating", GoToMarket)
	if err != nil {
		return nil, err
	}
	if p.contact == nil {
		return nil, &domain.RuleError{Code: "marketing-contact-required",
			Detail: "set the marketing contact (user, alternate email, phone, language) before activating a go-to-market benefit"}
	}
	if s.activated {
		if s.expiresAt != nil && !now.Before(*s.expiresAt) {
			return nil, &domain.RuleError{Code: "benefit-expired", Detail: fmt.Sprintf("the benefit expired on %s", s.expiresAt.Format(time.DateOnly))}
		}
		return nil, nil
	}
	expires := now.AddDate(0, 0, s.TermDays)
	a := p.activation(s, by, now, &expires)[0].(Activated)
	return &a, nil
}

// MarketingContact is the package's marketing contact (ok false: none
// was set).
func (p *Package) MarketingContact() (Contact, bool) {
	if p.contact == nil {
		return Contact{}, false
	}
	return *p.contact, true
}

func (p *Package) has(k Kind) bool {
	for _, s := range p.benefits {
		if s.Kind == k {
			return true
		}
	}
	return false
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
