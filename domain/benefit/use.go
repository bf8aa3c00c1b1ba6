package benefit

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
)

// usable is a benefit of a package not cancelled, of one of the kinds an
// action works on.
func (p *Package) usable(id uuid.UUID, action string, kinds ...Kind) (*state, error) {
	if p.cancelled {
		return nil, &domain.RuleError{Code: "package-cancelled", Detail: "the benefit package was cancelled"}
	}
	s := p.benefit(id)
	if s == nil {
		return nil, fmt.Errorf("benefit %s: %w", id, domain.ErrNotFound)
	}
	if !slices.Contains(kinds, s.Kind) {
		return nil, &domain.RuleError{Code: "wrong-benefit-kind", Detail: fmt.Sprintf("%s is not for %s benefits", action, s.Kind)}
	}
	return s, nil
}

// activation is the Activated event of a benefit's first use (nil when it
// is in use already).
func (p *Package) activation(s *state, by string, now time.Time, expires *time.Time) []event.Event {
	if s.activated {
		return nil
	}
	return []event.Event{Activated{PackageID: p.id, PartnerID: p.partnerID, BenefitID: s.BenefitID, Kind: s.Kind,
		ActivatedBy: by, ActivatedAt: now, ExpiresAt: expires}}
}

// RetrieveKey records that userID (nil: an operator) got the product key
// of a software or license-based cloud benefit, for a language and an
// operating system (both required for software). The first retrieval
// activates the benefit.
func (p *Package) RetrieveKey(id uuid.UUID, userID *uuid.UUID, language, os, by string, now time.Time) ([]event.Event, error) {
	s, err := p.usable(id, "getting a product key", Software, Cloud)
	if err != nil {
		return nil, err
	}
	if s.Kind == Cloud && s.CloudModel != License {
		return nil, &domain.RuleError{Code: "wrong-benefit-kind", Detail: "a usage-based cloud benefit is activated by assigning the company, not by a key"}
	}
	var verr domain.ValidationError
	required := s.Kind == Software
	lang, ok := CheckLanguage(language)
	if !ok || (required && lang == "") {
		verr.Add("language", "one of the product languages: "+languageList())
	}
	system, ok := CheckOS(os)
	if !ok || (required && system == "") {
		verr.Add("os", "one of "+osList())
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	got := ProductKeyRetrieved{PackageID: p.id, PartnerID: p.partnerID, BenefitID: id, Language: lang, OS: system,
		UserID: userID, RetrievedBy: by, RetrievedAt: now}
	return append([]event.Event{got}, p.activation(s, by, now, nil)...), nil
}

// AssignCompany activates a usage-based cloud benefit for the partner
// organization itself (nil: it is already).
func (p *Package) AssignCompany(id uuid.UUID, by string, now time.Time) ([]event.Event, error) {
	s, err := p.usable(id, "assigning the company", Cloud)
	if err != nil {
		return nil, err
	}
	if s.CloudModel != Usage {
		return nil, &domain.RuleError{Code: "wrong-benefit-kind", Detail: "a license-based cloud benefit is activated by getting its product key"}
	}
	if s.company {
		return nil, nil
	}
	assigned := CompanyAssigned{PackageID: p.id, PartnerID: p.partnerID, BenefitID: id, AssignedBy: by, AssignedAt: now}
	return append([]event.Event{assigned}, p.activation(s, by, now, nil)...), nil
}

// AssignUser gives a user of the partner a Visual Studio subscription or a
// technical benefit, never more users than the quantity. A technical
// benefit needs an alternate email other than the user's sign-in email.
// The first assignment activates the benefit. The place of a user the
// partner has removed since (left reports it; nil: nobody has left) is
// free: the person no longer acts for the partner, and their place stayed
// taken until someone unassigned them by hand.
func (p *Package) AssignUser(id uuid.UUID, m partner.Member, alternateEmail, by string, now time.Time, left func(uuid.UUID) bool) ([]event.Event, error) {
	s, err := p.usable(id, "assigning a user", VisualStudio, Technical)
	if err != nil {
		return nil, err
	}
	alt, err := checkAlternate(s.Kind, m, alternateEmail)
	if err != nil {
		return nil, err
	}
	if slices.Contains(s.assignees, m.ID) {
		return nil, fmt.Errorf("user %s already holds this benefit: %w", m.ID, domain.ErrConflict)
	}
	if err := s.placeFree(left); err != nil {
		return nil, err
	}
	assigned := UserAssigned{PackageID: p.id, PartnerID: p.partnerID, BenefitID: id, UserID: m.ID, AlternateEmail: alt, AssignedBy: by, AssignedAt: now}
	return append([]event.Event{assigned}, p.activation(s, by, now, nil)...), nil
}

// placeFree is nil while fewer users hold the benefit than its quantity,
// not counting those the partner has removed (left; nil: nobody has left).
func (s *state) placeFree(left func(uuid.UUID) bool) error {
	held := 0
	for _, u := range s.assignees {
		if left == nil || !left(u) {
			held++
		}
	}
	if held >= s.Quantity {
		return &domain.RuleError{Code: "quantity-exhausted",
			Detail: fmt.Sprintf("all %d of this benefit are assigned; reassign or unassign one first", s.Quantity)}
	}
	return nil
}

// ReassignUser gives the place a user holds to another user of the
// partner, at any time. A user the partner has removed (left) holds no
// place any more (see AssignUser): theirs may have been given to another
// since, so reassigning from them needs a free place, as assigning does.
func (p *Package) ReassignUser(id, from uuid.UUID, to partner.Member, alternateEmail, by string, now time.Time, left func(uuid.UUID) bool) (UserReassigned, error) {
	s, err := p.usable(id, "reassigning a user", VisualStudio, Technical)
	if err != nil {
		return UserReassigned{}, err
	}
	if !slices.Contains(s.assignees, from) {
		return UserReassigned{}, fmt.Errorf("user %s does not hold this benefit: %w", from, domain.ErrNotFound)
	}
	alt, err := checkAlternate(s.Kind, to, alternateEmail)
	if err != nil {
		return UserReassigned{}, err
	}
	if slices.Contains(s.assignees, to.ID) {
		return UserReassigned{}, fmt.Errorf("user %s already holds this benefit: %w", to.ID, domain.ErrConflict)
	}
	if left != nil && left(from) {
		if err := s.placeFree(left); err != nil {
			return UserReassigned{}, err
		}
	}
	return UserReassigned{PackageID: p.id, PartnerID: p.partnerID, BenefitID: id, FromUserID: from, UserID: to.ID,
		AlternateEmail: alt, ReassignedBy: by, ReassignedAt: now}, nil
}

// UnassignUser frees the place a user holds.
func (p *Package) UnassignUser(id, userID uuid.UUID, by string) (UserUnassigned, error) {
	s, err := p.usable(id, "unassigning a user", VisualStudio, Technical)
	if err != nil {
		return UserUnassigned{}, err
	}
	if !slices.Contains(s.assignees, userID) {
		return UserUnassigned{}, fmt.Errorf("user %s does not hold this benefit: %w", userID, domain.ErrNotFound)
	}
	return UserUnassigned{PackageID: p.id, PartnerID: p.partnerID, BenefitID: id, UserID: userID, UnassignedBy: by}, nil
}

// checkAlternate returns the alternate email a kind takes: none for a
// Visual Studio subscription, one other than the sign-in email for a
// technical benefit (and for a marketing contact).
func checkAlternate(k Kind, m partner.Member, email string) (string, error) {
	if k == VisualStudio {
		if email != "" {
			return "", &domain.ValidationError{Fields: []domain.FieldError{{Field: "alternateEmail", Reason: "only technical benefits take an alternate email"}}}
		}
		return "", nil
	}
	alt, why := user.CheckEmail(email)
	if why != "" {
		return "", &domain.ValidationError{Fields: []domain.FieldError{{Field: "alternateEmail", Reason: why}}}
	}
	if user.NormalizeEmail(alt) == m.Email {
		return "", &domain.RuleError{Code: "alternate-email-is-sign-in-email",
			Detail: "alternateEmail must differ from the user's sign-in email: instructions go to both"}
	}
	return alt, nil
}
