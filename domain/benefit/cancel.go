package benefit

import (
	"fmt"
	"strings"
	"time"

	"github.com/bizcenter/bizcenter/domain"
)

// MaxReason bounds a cancellation's reason.
const MaxReason = 2000

// Cancel ends the package. With refund, the price is paid back, which
// the rules allow only within RefundWindow of the purchase and only while
// no software benefit was activated, both decided at now; the error names
// every rule that failed (its Code the first). Without refund, a package
// may be cancelled at any time.
func (p *Package) Cancel(refund bool, reason, by string, now time.Time) (PackageCancelled, error) {
	if p.cancelled {
		return PackageCancelled{}, &domain.RuleError{Code: "package-cancelled", Detail: "the benefit package was cancelled already"}
	}
	reason, why := domain.CheckFreeText(reason, MaxReason)
	if why != "" {
		return PackageCancelled{}, &domain.ValidationError{Fields: []domain.FieldError{{Field: "reason", Reason: why}}}
	}
	cancelled := PackageCancelled{PackageID: p.id, PartnerID: p.partnerID, Refund: refund, Reason: reason, CancelledBy: by, CancelledAt: now}
	if !refund {
		return cancelled, nil
	}
	var failed *domain.RuleError
	var details []string
	fail := func(code, detail string) {
		if failed == nil {
			failed = &domain.RuleError{Code: code}
		}
		details = append(details, detail)
	}
	if deadline := p.purchasedAt.Add(RefundWindow); !now.Before(deadline) {
		fail("refund-window-closed", fmt.Sprintf("a refund is given only within 30 days of purchase: the package was bought on %s and the window closed on %s",
			p.purchasedAt.Format(time.DateOnly), deadline.Format(time.RFC3339)))
	}
	var software []string
	for _, s := range p.benefits {
		if s.Kind == Software && s.activated {
			software = append(software, fmt.Sprintf("%q", s.Name))
		}
	}
	if len(software) > 0 {
		fail("software-benefit-activated", "a refund is given only while no software benefit was activated: "+strings.Join(software, ", ")+" was activated")
	}
	if failed != nil {
		failed.Detail = strings.Join(details, "; ") + "; cancel without a refund instead"
		return PackageCancelled{}, failed
	}
	price := p.price
	cancelled.RefundAmount = &price
	return cancelled, nil
}
