package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/partner"
)

// ErasePartnerUserPersonalData forgets the personal data of a user of a
// partner (one who acts for it, or did) on a verified erasure request, as
// ErasePersonalData does for a user of an account: the key first, then
// partner.user_personal_data_erased on the partner's stream. Erasing
// again appends nothing.
type ErasePartnerUserPersonalData struct {
	By        Actor
	PartnerID uuid.UUID
	UserID    uuid.UUID
	Reason    string
	// Sweeping: the sweeper finishing an erasure the key store names; a
	// key with no such user behind it is marked (there is nothing to
	// record) rather than refused at every sweep.
	Sweeping bool
}

// ErasePartnerUserPersonalDataHandler handles ErasePartnerUserPersonalData.
func ErasePartnerUserPersonalDataHandler(d Deps) Handler[ErasePartnerUserPersonalData, PersonalDataErased] {
	return HandlerFunc[ErasePartnerUserPersonalData, PersonalDataErased](func(ctx context.Context, c ErasePartnerUserPersonalData) (PersonalDataErased, error) {
		reason, err := d.erasable(c.By, c.Reason)
		if err != nil {
			return PersonalDataErased{}, err
		}
		stream := partner.Stream(c.PartnerID)
		return retried(ctx, func() (PersonalDataErased, error) {
			var p partner.Partner
			// Nothing personal decides an erasure: the events stay sealed.
			l, err := loadWith(ctx, d, stream, &p, nil)
			if err != nil {
				return PersonalDataErased{}, err
			}
			if _, ok := p.EraseUser(c.UserID, "", "", d.now()); !ok || !p.Exists() {
				if c.Sweeping {
					return PersonalDataErased{}, d.Personal.Recorded(ctx, c.UserID)
				}
				return PersonalDataErased{}, fmt.Errorf("user %s of partner %s: %w", c.UserID, c.PartnerID, domain.ErrNotFound)
			}
			by := origin{actor: c.By.name(), at: d.now()}
			firstBy, firstReason, err := d.Personal.Erase(ctx, c.UserID, stream, by.actor, reason)
			if err != nil {
				return PersonalDataErased{}, err
			}
			answer := PersonalDataErased{Position: l.answered()}
			if erased, _ := p.EraseUser(c.UserID, firstBy, firstReason, by.at); erased != nil {
				res, err := save(ctx, d, stream, l, by, *erased)
				if err != nil {
					return PersonalDataErased{}, err
				}
				answer = PersonalDataErased{Position: res.Position, Appended: true}
			}
			// As ErasePersonalData: should the mark fail, the sweeper runs
			// the erasure again, which appends nothing more.
			_ = d.Personal.Recorded(ctx, c.UserID)
			return answer, nil
		})
	})
}
