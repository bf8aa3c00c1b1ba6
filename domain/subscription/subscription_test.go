package subscription

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
)

// Events record time in microseconds: an expiry less than a microsecond
// after the purchase is recorded as the purchase's own moment, a term of
// nothing that no price can be spread over (the billing projector divides
// by it), so it is refused like any expiry not in the future.
func TestPurchase_refuses_an_expiry_no_later_than_now_once_recorded_in_microseconds(t *testing.T) {
	o := Order{ProductID: "office-e3", ProductName: "Office E3", Name: "Team", ExpiresAt: now.Add(900 * time.Nanosecond),
		Price: Price{Amount: "1234.50", Currency: "USD"}, TotalLicenses: 10}
	_, err := Purchase(uuid.New(), uuid.New(), o, "admin", now)
	var verr *domain.ValidationError
	if !errors.As(err, &verr) || len(verr.Fields) != 1 || verr.Fields[0].Field != "expiresAt" {
		t.Fatalf("expiry 900 ns ahead: %v", err)
	}
	o.ExpiresAt = now.Add(time.Microsecond)
	if p, err := Purchase(uuid.New(), uuid.New(), o, "admin", now); err != nil || !p.ExpiresAt.After(p.PurchasedAt) {
		t.Fatalf("expiry a microsecond ahead: %+v %v", p, err)
	}
}
