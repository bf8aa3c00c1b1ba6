package commands

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
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

// ChangeDomainHandler handles ChangeDomain in the account's turn
// (AccountSerial), checking the caller's roles under it.
//
// An account lists a domain only while the domain's reservation stream
// (reservation.DomainStream) is the account's: that stream is what keeps
// other accounts from it. Where the store appends to several streams at
// once (the embedded store), the reservation's change and the account's
// event are one append, all or none. Elsewhere (EventStoreDB) they are
// two, ordered so that a command stopped between them (by conflicts, or
// by its process) leaves the reservation held for an account that does
// not list the domain, which no other account can take, and never a
// listed domain that another account could: the claim goes before the
// account's domain_added, the account's domain_removed before the
// release. The same command sent again finishes the work: an Add finds
// the claim its own and lists the domain, a Remove finds the domain no
// longer listed but still reserved for the account and releases it. The
// account's turn keeps such a Remove from releasing the claim of an Add
// of the same account still under way (claimed, not listed yet); the
// claim is no other account's to release.
//
// Run again with its idempotency key, a change an earlier run finished
// (an Add's domain_added, a Remove's release) is answered before the
// caller's roles are checked; one it left half done is finished as a new
// run would, the roles checked first.
func ChangeDomainHandler(d Deps) Handler[ChangeDomain, DomainsChanged] {
	return HandlerFunc[ChangeDomain, DomainsChanged](func(ctx context.Context, c ChangeDomain) (DomainsChanged, error) {
		name, err := account.NormalizeDomain(c.Domain)
		if err == nil && !c.Remove {
			err = account.CheckNewDomain(name)
		}
		if err != nil {
			return DomainsChanged{}, err
		}
		return serialized(ctx, d.AccountSerial, c.AccountID, func(ctx context.Context) (DomainsChanged, error) {
			first, err := d.keepDomain(ctx, c.AccountID, name)
			if err != nil {
				return DomainsChanged{}, err
			}
			if done, ok := first.changedBefore(c); ok {
				return done, nil
			}
			held, err := d.rolesIn(ctx, c.AccountID, c.By)
			if err != nil {
				return DomainsChanged{}, err
			}
			if !slices.Contains(held, user.AccountAdministrator) {
				return DomainsChanged{}, fmt.Errorf("domains are managed by Account Administrators: %w", domain.ErrForbidden)
			}
			by := origin{actor: c.By.name(), at: d.now()}
			return retried(ctx, func() (DomainsChanged, error) { return d.changeDomain(ctx, c, name, by, first) })
		})
	})
}

// domainRead is keep's reads of the streams a change of domain decides
// on: the account and the domain's reservation.
type domainRead struct {
	account     *kept[account.Account]
	reservation *kept[reservation.Reservation]
}

// keepDomain reads both streams the change decides on, with an
// idempotency key, in the account's turn: the stream an earlier run
// appended to last is one of them.
func (d Deps) keepDomain(ctx context.Context, accountID uuid.UUID, name string) (domainRead, error) {
	var r domainRead
	var err error
	if r.account, err = keep[account.Account](ctx, d, account.Stream(accountID)); err != nil {
		return r, err
	}
	r.reservation, err = keep[reservation.Reservation](ctx, d, reservation.DomainStream(name))
	return r, err
}

// changedBefore answers a change an earlier run with the same
// idempotency key finished: its last append, the account's domain_added
// or the reservation's release, is its own, and its position is what that
// run answered. The domains are the account's now, as an Add or Remove
// already so answers them.
func (r domainRead) changedBefore(c ChangeDomain) (DomainsChanged, bool) {
	last := r.account.read()
	if c.Remove {
		last = r.reservation.read()
	}
	if last.mine == nil {
		return DomainsChanged{}, false
	}
	return DomainsChanged{Domains: r.account.state.Domains(), Position: last.answered()}, true
}

// changeDomain is one try of ChangeDomain on the normalized name, the
// first taking first's reads (see loadKept), when there are any.
func (d Deps) changeDomain(ctx context.Context, c ChangeDomain, name string, by origin, first domainRead) (DomainsChanged, error) {
	a, l, err := d.keptAccount(ctx, c.AccountID, first.account)
	if err != nil {
		return DomainsChanged{}, err
	}
	r, rl, err := loadKept(ctx, d, first.reservation, reservation.DomainStream(name))
	if err != nil {
		return DomainsChanged{}, err
	}
	held := write{stream: reservation.DomainStream(name), at: rl}
	listed := write{stream: account.Stream(c.AccountID), at: l}
	domains := a.Domains()
	// writes are in the order of two appends (see ChangeDomainHandler).
	var writes []write
	if c.Remove {
		if removed := a.RemoveDomain(name, by.actor); removed != nil {
			listed.events, domains = []event.Event{*removed}, without(domains, name)
			writes = append(writes, listed)
		}
		// Also when the account no longer lists the domain: a Remove
		// stopped before its release.
		if rel := r.Release(reservation.KindDomain, c.AccountID, by.at); rel != nil {
			held.events = []event.Event{*rel}
			writes = append(writes, held)
		}
	} else {
		if owner := r.Owner(); owner != uuid.Nil && owner != c.AccountID {
			return DomainsChanged{}, fmt.Errorf("%s belongs to another account: %w", name, domain.ErrConflict)
		}
		added := a.AddDomain(name, by.actor)
		if added == nil {
			return DomainsChanged{Domains: domains, Position: l.answered()}, nil
		}
		// A claim already the account's is that of an Add stopped before
		// its domain_added: this one finishes it.
		if r.Owner() == uuid.Nil {
			held.events = []event.Event{reservation.Claim(reservation.KindDomain, c.AccountID, by.at)}
			writes = append(writes, held)
		}
		listed.events, domains = []event.Event{*added}, append(domains, name)
		writes = append(writes, listed)
	}
	if len(writes) == 0 {
		return DomainsChanged{Domains: domains, Position: l.answered()}, nil
	}
	pos, err := saveInOrder(ctx, d, by, writes...)
	if err != nil {
		return DomainsChanged{}, err
	}
	return DomainsChanged{Domains: domains, Position: pos}, nil
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
