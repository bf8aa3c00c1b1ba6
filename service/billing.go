package service

import "github.com/bizcenter/bizcenter/payment"

// payments is the payment provider cards go to: the configured one, or
// the local test provider deciding card expiry by the service's clock.
func (s *Service) payments() payment.Provider {
	if s.cfg.Payments != nil {
		return s.cfg.Payments
	}
	return payment.NewLocal(s.cfg.Clock)
}
