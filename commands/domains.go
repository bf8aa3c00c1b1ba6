package commands

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// ChangeDomain associates a domain with an account (Add) or removes it.
// A domain belongs to one account at most. Account Administrators only.
type ChangeDomain struct {
	By        Actor
	AccountID uuid.UUID
	Domain    string
	Remove    bool
}

// DomainsChanged is the answer: the account's domains after the change.
type DomainsChanged struct {
	Domains  []string
	Position eventstore.Position
}

// ChangeDomainHandler handles ChangeDomain.
func ChangeDomainHandler(d Deps) Handler[ChangeDomain, DomainsChanged] {
	return HandlerFunc[ChangeDomain, DomainsChanged](func(ctx context.Context, c ChangeDomain) (DomainsChanged, error) {
		name, err := account.NormalizeDomain(c.Domain)
		if err != nil {
			return DomainsChanged{}, err
		}
		held, err := d.rolesIn(ctx, c.AccountID, c.By)
		if err != nil {
			return DomainsChanged{}, err
		}
		if !slices.Contains(held, user.AccountAdministrator) {
			return DomainsChanged{}, fmt.Errorf("domains are managed by Account Administrators: %w", domain.ErrForbidden)
		}
		by := origin{actor: c.By.name(), at: d.now()}
		return retried(ctx, func() (DomainsChanged, error) {
			a, l, err := d.loadAccount(ctx, c.AccountID)
			if err != nil {
				return DomainsChanged{}, err
			}
			var r reservation.Reservation
			rl, err := load(ctx, d, reservation.DomainStream(name), &r)
			if err != nil {
				return DomainsChanged{}, err
			}
			domains, pos := a.Domains(), l.answered()
			if c.Remove {
				if removed := a.RemoveDomain(name, by.actor); removed != nil {
					if rel := r.Release(reservation.KindDomain, c.AccountID, by.at); rel != nil {
						if _, err := save(ctx, d, reservation.DomainStream(name), rl, by, *rel); err != nil {
							return DomainsChanged{}, err
						}
					}
					res, err := save(ctx, d, account.Stream(c.AccountID), l, by, *removed)
					if err != nil {
						return DomainsChanged{}, err
					}
					domains, pos = without(domains, name), res.Position
				}
				return DomainsChanged{Domains: domains, Position: pos}, nil
			}
			if owner := r.Owner(); owner != uuid.Nil && owner != c.AccountID {
				return DomainsChanged{}, fmt.Errorf("%s belongs to another account: %w", name, domain.ErrConflict)
			}
			added := a.AddDomain(name, by.actor)
			if added == nil {
				return DomainsChanged{Domains: domains, Position: pos}, nil
			}
			if r.Owner() == uuid.Nil {
				if _, err := save(ctx, d, reservation.DomainStream(name), rl, by, reservation.Claim(reservation.KindDomain, c.AccountID, by.at)); err != nil {
					return DomainsChanged{}, err
				}
			}
			res, err := save(ctx, d, account.Stream(c.AccountID), l, by, *added)
			if err != nil {
				return DomainsChanged{}, err
			}
			return DomainsChanged{Domains: append(domains, name), Position: res.Position}, nil
		})
	})
}

func without(list []string, s string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
