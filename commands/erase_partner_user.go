package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
)

// ErasePartnerUserPersonalData forgets the personal data of a user of a
// partner (one who acts for it, or did) on a verified erasure request, as
// ErasePersonalData does for a user of an account: the key first, then
// partner.user_personal_data_erased on the partner's stream. Erasing
// again appends nothing. The partner's last global admin is not erased
// (422 last-global-admin), as they may not be removed.
type ErasePartnerUserPersonalData struct {
	By        Actor
	PartnerID uuid.UUID
	UserID    uuid.UUID
	Reason    string
	// finishing: FinishErasure's run: a key with no such user behind it
	// is marked (nothing to record) rather than refused at every sweep.
	finishing bool
}

// ErasePartnerUserPersonalDataHandler handles ErasePartnerUserPersonalData.
// It runs alone for the partner (PartnerSerial): the erased user's email
// reads "[erased]" from the moment the key is gone, so they are no
// longer the partner's user, and what they were doing for it is recorded
// before, or sees that.
func ErasePartnerUserPersonalDataHandler(d Deps) Handler[ErasePartnerUserPersonalData, PersonalDataErased] {
	return HandlerFunc[ErasePartnerUserPersonalData, PersonalDataErased](func(ctx context.Context, c ErasePartnerUserPersonalData) (PersonalDataErased, error) {
		reason, err := d.erasable(c.By, c.Reason)
		if err != nil {
			return PersonalDataErased{}, err
		}
		return serialized(ctx, d.PartnerSerial, c.PartnerID, func(ctx context.Context) (PersonalDataErased, error) {
			return d.erasePartnerUser(ctx, c, reason)
		})
	})
}

func (d Deps) erasePartnerUser(ctx context.Context, c ErasePartnerUserPersonalData, reason string) (PersonalDataErased, error) {
	stream := partner.Stream(c.PartnerID)
	return retried(ctx, func() (PersonalDataErased, error) {
		var p partner.Partner
		// Nothing personal decides an erasure: the events stay sealed.
		l, err := loadWith(ctx, d, stream, &p, nil)
		if err != nil {
			return PersonalDataErased{}, err
		}
		if !p.Exists() || !p.HadUser(c.UserID) {
			if c.finishing {
				return PersonalDataErased{}, d.Personal.Recorded(ctx, c.UserID)
			}
			return PersonalDataErased{}, fmt.Errorf("user %s of partner %s: %w", c.UserID, c.PartnerID, domain.ErrNotFound)
		}
		if !c.finishing {
			// Before the key goes, for nothing can refuse after: a
			// finishing run's key is gone already.
			if err := p.MayErase(c.UserID); err != nil {
				return PersonalDataErased{}, err
			}
		}
		return d.erase(ctx, c.UserID, stream, l, origin{actor: c.By.name(), at: d.now()}, reason,
			func(firstBy, firstReason string, at time.Time) event.Event {
				if e := p.EraseUser(c.UserID, firstBy, firstReason, at); e != nil {
					return *e
				}
				return nil
			})
	})
}
