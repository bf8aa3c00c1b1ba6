package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Licensing is what the license commands need besides Deps.
type Licensing struct {
	Catalog *licensing.Catalog
	Lookup  LicenseLookup
	// Serial runs the license commands of one account one at a time, in
	// every instance; nil runs them side by side. Each subscription's
	// stream already keeps its own count exact; what only one command at
	// a time makes exact are the rules that span streams: a product drawn
	// from several subscriptions (all of a request's users get it or
	// none), and a user's products (two requests cannot give one user
	// conflicting products, or one product twice from two subscriptions).
	Serial Serial
}

// LicenseLookup finds in read models what the license commands would
// otherwise have to fold thousands of streams to learn. Its answers are
// only trusted where they cannot be stale in a harmful way: a subscription
// once listed stays listed (its state is then read from its stream), and
// none is drawn from before it is listed (AwaitPosition), so every later
// command of the account sees what was given from it; a user's account
// and country never change and "active" never ends, so a user listed as
// active is; anyone not listed is looked up in their stream.
type LicenseLookup interface {
	// Subscriptions lists the ids of the account's subscriptions that are
	// not cancelled.
	Subscriptions(ctx context.Context, accountID uuid.UUID) ([]uuid.UUID, error)
	// AwaitPosition returns once the lookup's answers reflect the log
	// through pos, or fails when that takes too long. A self-service
	// request may name a subscription bought a moment ago; had it drawn
	// from it unlisted, a bulk request right after would not see those
	// holders, and could give them a conflicting product or the same
	// one twice.
	AwaitPosition(ctx context.Context, pos eventstore.Position) error
	// ActiveUsers returns those of the users listed as active users of the
	// account, with their country; an erased user is not listed.
	ActiveUsers(ctx context.Context, accountID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]string, error)
}

// licenseState is an account's subscriptions as their streams left them.
type licenseState struct {
	subs   map[uuid.UUID]*subscription.Subscription
	loaded map[uuid.UUID]loaded
	ids    []uuid.UUID // sorted
}

// parallelLoads bounds the streams loaded at once.
const parallelLoads = 8

// loadLicenseState loads the account's subscriptions (those the lookup
// lists, and extra) from their streams.
func (d Deps) loadLicenseState(ctx context.Context, l Licensing, accountID uuid.UUID, extra ...uuid.UUID) (*licenseState, error) {
	ids, err := l.Lookup.Subscriptions(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %s: %w", accountID, err)
	}
	ids = append(ids, extra...)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	ids = slices.Compact(ids)
	subs := make([]subscription.Subscription, len(ids))
	loads := make([]loaded, len(ids))
	err = parallel(ctx, len(ids), func(i int) error {
		var err error
		loads[i], err = load(ctx, d, subscription.Stream(ids[i]), &subs[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	st := &licenseState{subs: map[uuid.UUID]*subscription.Subscription{}, loaded: map[uuid.UUID]loaded{}}
	for i, id := range ids {
		if subs[i].Exists() && subs[i].AccountID() == accountID {
			st.subs[id], st.loaded[id] = &subs[i], loads[i]
			st.ids = append(st.ids, id)
		}
	}
	return st, nil
}

// purchased reports whether the account bought a product.
func (st *licenseState) purchased(productID string) bool {
	for _, s := range st.subs {
		if s.ProductID() == productID {
			return true
		}
	}
	return false
}

// position is the latest position of the streams read: what a command
// that appends nothing answers.
func (st *licenseState) position() eventstore.Position {
	var p eventstore.Position
	for _, l := range st.loaded {
		if p.Less(l.answered()) {
			p = l.answered()
		}
	}
	return p
}

// users are the users of a request as the rules see them at now (the
// moment the request decides at, which the subscriptions' free licenses
// are counted at too): their account, status and country (from the
// lookup, else their streams), and the products they hold through the
// account's active subscriptions.
func (d Deps) licenseUsers(ctx context.Context, l Licensing, accountID uuid.UUID, ids []uuid.UUID, st *licenseState, now time.Time) ([]licensing.User, error) {
	active, err := l.Lookup.ActiveUsers(ctx, accountID, ids)
	if err != nil {
		return nil, fmt.Errorf("users of %s: %w", accountID, err)
	}
	users := make([]licensing.User, len(ids))
	index := make(map[uuid.UUID]int, len(ids))
	var unlisted []int
	for i, id := range ids {
		index[id] = i
		users[i] = licensing.User{ID: id, Holds: map[string][]uuid.UUID{}}
		if c, ok := active[id]; ok {
			users[i].InAccount, users[i].Active, users[i].Country = true, true, c
		} else {
			unlisted = append(unlisted, i)
		}
	}
	// Personal fields are not needed: no keys are fetched for them.
	plain := d
	plain.Personal = nil
	err = parallel(ctx, len(unlisted), func(j int) error {
		u := &users[unlisted[j]]
		var f licensee
		if _, err := load(ctx, plain, user.Stream(u.ID), &f); err != nil {
			return err
		}
		u.InAccount = f.accountID == accountID
		u.Active = u.InAccount && f.Status(now) == user.Active
		u.Erased = u.InAccount && f.Erased()
		u.Country = f.country
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.addHoldings(users, index, now)
	return users, nil
}

// addHoldings adds to each of users (index: where a user is among them)
// the products they hold through the account's active subscriptions.
func (st *licenseState) addHoldings(users []licensing.User, index map[uuid.UUID]int, now time.Time) {
	for _, sid := range st.ids {
		s := st.subs[sid]
		if s.Status(now) != subscription.StatusActive {
			continue
		}
		for holder := range s.Holders() {
			if i, ok := index[holder]; ok {
				users[i].Holds[s.ProductID()] = append(users[i].Holds[s.ProductID()], sid)
			}
		}
	}
}

// licensee is the narrow write model of a user that licensing needs.
type licensee struct {
	user.User
	accountID uuid.UUID
	country   string
}

func (f *licensee) Apply(e event.Event) {
	f.User.Apply(e)
	if inv, ok := e.(user.Invited); ok {
		f.accountID, f.country = inv.AccountID, inv.Country
	}
}

// scope is whose licenses an actor may hand out and take back in an
// account.
type scope struct {
	account *account.Account
	// partnerID: the actor acts for this partner (nil: for the customer,
	// or an operator for everyone).
	partnerID *uuid.UUID
}

// mayUse reports whether a subscription is in the scope.
func (sc scope) mayUse(s *subscription.Subscription) bool {
	if sc.partnerID == nil {
		return true
	}
	ordered := s.OrderingPartner()
	return ordered != nil && sc.account.ChannelOf(*ordered) == *sc.partnerID
}

// licenseScope checks that the actor may assign licenses in the account:
// as the customer's Account Administrator or Account Manager, as a user
// of partnerID (a partner serving the account) with a role of
// licensing.PartnerAssigners, or as an operator.
func (d Deps) licenseScope(ctx context.Context, accountID uuid.UUID, a Actor, partnerID *uuid.UUID) (scope, error) {
	acc, _, err := d.loadAccount(ctx, accountID)
	if err != nil {
		return scope{}, err
	}
	sc := scope{account: acc, partnerID: partnerID}
	if partnerID != nil {
		if !acc.Serves(*partnerID) {
			return scope{}, accountNotFound(accountID)
		}
		p, _, err := d.loadPartner(ctx, *partnerID)
		if err != nil || a.Operator {
			return sc, err
		}
		m, ok := p.MemberByEmail(a.Email)
		if !ok || a.Email == "" {
			return scope{}, accountNotFound(accountID)
		}
		if !licensing.PartnerMayAssign(m.Roles) {
			return scope{}, fmt.Errorf("your partner roles do not allow assigning licenses: %w", domain.ErrForbidden)
		}
		return sc, nil
	}
	if err := d.customerAssigner(ctx, accountID, a); err != nil {
		return scope{}, err
	}
	return sc, nil
}

// customerAssigner checks that the actor may assign the account's
// licenses as the customer (or is an operator).
func (d Deps) customerAssigner(ctx context.Context, accountID uuid.UUID, a Actor) error {
	held, err := d.rolesIn(ctx, accountID, a)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(held, func(r user.Role) bool { return slices.Contains(licensing.CustomerAssigners, r) }) {
		return fmt.Errorf("licenses are assigned by Account Administrators and Account Managers: %w", domain.ErrForbidden)
	}
	return nil
}

// parallel runs f for 0..n-1, at most parallelLoads at once, and returns
// the first error.
func parallel(ctx context.Context, n int, f func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for range min(n, parallelLoads) {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if first == nil {
		return ctx.Err()
	}
	return first
}

// unprefixed names the service plans of a one-product request as its
// body does.
func unprefixed(err error) error {
	var verr *domain.ValidationError
	if errors.As(err, &verr) {
		for i, f := range verr.Fields {
			verr.Fields[i].Field = strings.TrimPrefix(f.Field, "products[0].")
		}
	}
	return err
}
