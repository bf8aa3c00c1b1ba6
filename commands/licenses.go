package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
)

// AssignLicenses gives many users of an account several products at once
// (licensing.Catalog.Assign has the rules), drawing each product's
// licenses from the account's active subscriptions of it that the caller
// may use.
type AssignLicenses struct {
	By        Actor
	AccountID uuid.UUID
	// PartnerID: the caller acts as a user of this partner serving the
	// account, with the licenses of what the partner answers for.
	PartnerID *uuid.UUID
	UserIDs   []uuid.UUID
	Products  []licensing.Choice
}

// RevokeLicenses takes several products back from many users at once.
type RevokeLicenses struct {
	By         Actor
	AccountID  uuid.UUID
	PartnerID  *uuid.UUID
	UserIDs    []uuid.UUID
	ProductIDs []string
}

// LicenseResults is the answer: one result per user and product, in the
// order of the request (users, then products), and the position of the
// last event appended (of the streams read when nothing was).
type LicenseResults struct {
	Results  []licensing.Result
	Position eventstore.Position
}

// licenseAttempts bounds the reloads after a concurrent change of a
// subscription this command writes to.
const licenseAttempts = 8

// AssignLicensesHandler handles AssignLicenses.
//
// Each subscription's licenses are one stream, so no subscription ever
// has more assigned than its total: a request appends one batch to each
// subscription it draws from, with the revision it read, and a concurrent
// change makes it read again and decide again (the users it already
// recorded are kept, and answered as assigned).
func AssignLicensesHandler(d Deps, l Licensing) Handler[AssignLicenses, LicenseResults] {
	return HandlerFunc[AssignLicenses, LicenseResults](func(ctx context.Context, c AssignLicenses) (LicenseResults, error) {
		sc, err := d.licenseScope(ctx, c.AccountID, c.By, c.PartnerID)
		if err != nil {
			return LicenseResults{}, err
		}
		return d.assign(ctx, l, d.bulk(sc, c.UserIDs, c.By), c.Products)
	})
}

// RevokeLicensesHandler handles RevokeLicenses.
func RevokeLicensesHandler(d Deps, l Licensing) Handler[RevokeLicenses, LicenseResults] {
	return HandlerFunc[RevokeLicenses, LicenseResults](func(ctx context.Context, c RevokeLicenses) (LicenseResults, error) {
		sc, err := d.licenseScope(ctx, c.AccountID, c.By, c.PartnerID)
		if err != nil {
			return LicenseResults{}, err
		}
		return d.revoke(ctx, l, d.bulk(sc, c.UserIDs, c.By), c.ProductIDs)
	})
}

// bulk is a bulk request of an actor.
func (d Deps) bulk(sc scope, userIDs []uuid.UUID, a Actor) licenseRequest {
	return licenseRequest{scope: sc, actor: a, userIDs: userIDs, limit: licensing.MaxBulkUsers, by: origin{actor: a.name(), at: d.now()}}
}

// licenseRequest is what assign and revoke share: who asks, whose
// licenses, which users, and the one subscription of an all-or-nothing
// self-service call (nil: bulk).
type licenseRequest struct {
	scope   scope
	actor   Actor
	userIDs []uuid.UUID
	limit   int
	by      origin
	only    *uuid.UUID
	// onlyAt is where the log held the only subscription when the
	// request loaded it.
	onlyAt eventstore.Position
}

// decision is one decision of request r on the state read: it validates
// the products into verr, then decides and returns the results and what
// to append. r is the request as its turn found it (the scope checked
// again, the time it decides at), not as it was asked.
type decision func(r licenseRequest, st *licenseState, verr *domain.ValidationError, people func() ([]licensing.User, error)) ([]licensing.Result, []batch, error)

// assign gives products, drawing from the pools the scope may use.
func (d Deps) assign(ctx context.Context, l Licensing, r licenseRequest, choices []licensing.Choice) (LicenseResults, error) {
	return d.decideAndRecord(ctx, l, r, licensing.Assigned, func(r licenseRequest, st *licenseState, verr *domain.ValidationError, people func() ([]licensing.User, error)) ([]licensing.Result, []batch, error) {
		if r.only != nil {
			// Said as such, rather than as no license free for anyone.
			if err := st.subs[*r.only].CheckActive(r.by.at); err != nil {
				return nil, nil, err
			}
		}
		chosen := l.Catalog.CheckChoices(choices, st.purchased, verr)
		users, err := people()
		if err != nil {
			return nil, nil, err
		}
		results, grants := l.Catalog.Assign(users, chosen, st.pools(r.scope, r.only, chosen, r.by.at))
		batches := make([]batch, len(grants))
		for i, g := range grants {
			evs, err := st.subs[g.SubscriptionID].Assign(g.UserIDs, g.ServicePlans, l.Catalog.Version, r.by.actor, r.by.at)
			if err != nil {
				return nil, nil, err
			}
			batches[i] = batch{g.SubscriptionID, g.ProductID, g.UserIDs, evs}
		}
		return results, batches, nil
	})
}

// revoke takes products back to the subscriptions the scope may change.
func (d Deps) revoke(ctx context.Context, l Licensing, r licenseRequest, productIDs []string) (LicenseResults, error) {
	return d.decideAndRecord(ctx, l, r, licensing.Revoked, func(r licenseRequest, st *licenseState, verr *domain.ValidationError, people func() ([]licensing.User, error)) ([]licensing.Result, []batch, error) {
		l.Catalog.CheckProducts(productIDs, st.purchased, verr)
		users, err := people()
		if err != nil {
			return nil, nil, err
		}
		if r.only != nil {
			// One subscription's unassignment: a user holding its product
			// only through another subscription holds none of this one
			// (not_held), which is no license outside the caller's reach.
			for _, u := range users {
				for _, p := range productIDs {
					if !slices.Contains(u.Holds[p], *r.only) {
						delete(u.Holds, p)
					}
				}
			}
		}
		mayChange := func(id uuid.UUID) bool { return r.scope.mayUse(st.subs[id]) && (r.only == nil || id == *r.only) }
		results, releases := l.Catalog.Revoke(users, productIDs, mayChange)
		batches := make([]batch, len(releases))
		for i, rel := range releases {
			batches[i] = batch{rel.SubscriptionID, rel.ProductID, rel.UserIDs, st.subs[rel.SubscriptionID].Unassign(rel.UserIDs, r.by.actor)}
		}
		return results, batches, nil
	})
}

// decideAndRecord reads the account's subscriptions, validates, decides
// and appends, again from the start when a concurrent change of a
// subscription gets in the way (what it recorded before stays, and is
// answered as done).
func (d Deps) decideAndRecord(ctx context.Context, l Licensing, r licenseRequest, done licensing.Outcome, decide decision) (LicenseResults, error) {
	if r.only != nil {
		// Before the account's lock, which the wait would hold for
		// every other license command of the account. Listed stays
		// listed: whoever takes the lock next sees the subscription.
		if err := l.Lookup.AwaitPosition(ctx, r.onlyAt); err != nil {
			return LicenseResults{}, err
		}
	}
	return serialized(ctx, l.Serial, r.scope.account.ID(), func(ctx context.Context) (LicenseResults, error) {
		// Decided at the time the turn came, not when asked: a
		// subscription that expired while the request waited (for the
		// turn, or for the read model) gives no license.
		r.by.at = d.now()
		sc, err := d.scopeNow(ctx, r.scope, r.actor)
		if err != nil {
			return LicenseResults{}, err
		}
		r.scope = sc
		return d.decideAndRecordNow(ctx, l, r, done, decide)
	})
}

// scopeNow is the actor's scope checked again under the account's lock:
// the account, the partner and the actor's user were read before it, and
// a change of channel partner or the actor's new roles in the account
// that came in between (they wait for the same turn) would otherwise
// leave the actor assigning what they no longer may. The answers are the
// scope's: 404 for a partner that no longer serves the account or a
// caller no longer its user or the account's. A partner's user is
// checked once more sharing the partner's turn, before the appends
// (asCaller).
func (d Deps) scopeNow(ctx context.Context, sc scope, a Actor) (scope, error) {
	if sc.partnerID != nil {
		return d.licenseScope(ctx, sc.account.ID(), a, sc.partnerID)
	}
	if err := d.customerAssigner(ctx, sc.account.ID(), a); err != nil {
		return scope{}, err
	}
	return sc, nil
}

// asCaller runs record as the request's caller: a partner's user shares
// the partner's turn, which their removal, new roles or erasure waits
// for, and is checked again in it. Only the check and the appends share
// it, not the decision before them (thousands of users' streams may be
// read): a change waiting for the turn holds every other command of the
// partner's users behind it, in every account, for as long as the
// longest holder takes. The decision does not rest on the caller's roles
// (only on whether they may assign at all, checked again here); the
// account's channel, on which it does rest, cannot change under the
// account's lock.
func (d Deps) asCaller(ctx context.Context, r licenseRequest, record func(context.Context) (LicenseResults, error)) (LicenseResults, error) {
	if r.scope.partnerID == nil {
		return record(ctx)
	}
	return asPartnerUser(ctx, d, *r.scope.partnerID, r.actor, func(ctx context.Context) (LicenseResults, error) {
		if _, err := d.licenseScope(ctx, r.scope.account.ID(), r.actor, r.scope.partnerID); err != nil {
			return LicenseResults{}, err
		}
		return record(ctx)
	})
}

// decided is one decision on the state read, ready to record.
type decided struct {
	st      *licenseState
	results []licensing.Result
	batches []batch
}

func (d Deps) decideAndRecordNow(ctx context.Context, l Licensing, r licenseRequest, done licensing.Outcome, decide decision) (LicenseResults, error) {
	w := newWrites(done)
	decideOnce := func(ctx context.Context) (decided, error) {
		st, err := d.loadLicenseState(ctx, l, r.scope.account.ID(), ids(r.only)...)
		if err != nil {
			return decided{}, err
		}
		if err := st.onlyUsable(r.scope, r.only); err != nil {
			return decided{}, err
		}
		var verr domain.ValidationError
		users := licensing.CheckUsers(r.userIDs, r.limit, &verr)
		w.remember(st)
		results, batches, err := decide(r, st, &verr, func() ([]licensing.User, error) {
			if err := verr.Err(); err != nil {
				return nil, err
			}
			return d.licenseUsers(ctx, l, r.scope.account.ID(), users, st, r.by.at)
		})
		if err != nil {
			return decided{}, err
		}
		results = w.answered(results)
		if r.only != nil && slices.ContainsFunc(results, refusal) {
			return decided{}, &licensing.RequestRefused{Results: slices.DeleteFunc(results, func(r licensing.Result) bool { return !refusal(r) })}
		}
		return decided{st, results, batches}, nil
	}
	first, err := decideOnce(ctx)
	if err != nil {
		return LicenseResults{}, err
	}
	// A concurrent change of a subscription (rare: the account's lock
	// is held; the sweeper's expiries do not take it) is decided again
	// within the caller's turn, so that what was recorded and what
	// follows are one run of the caller's right.
	return d.asCaller(ctx, r, func(ctx context.Context) (LicenseResults, error) {
		dec := first
		for attempt := range licenseAttempts {
			if attempt > 0 {
				again, err := decideOnce(ctx)
				if err != nil {
					return LicenseResults{}, err
				}
				dec = again
			}
			pos, err := w.record(ctx, d, dec.st, r.by, dec.batches)
			if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
				continue
			}
			if err != nil {
				return LicenseResults{}, err
			}
			return LicenseResults{Results: dec.results, Position: cmp.Or(pos, dec.st.position())}, nil
		}
		return LicenseResults{}, fmt.Errorf("%w: the subscriptions kept changing; try again", domain.ErrConflict)
	})
}

func refusal(r licensing.Result) bool { return r.Outcome == licensing.Refused }

func ids(only *uuid.UUID) []uuid.UUID {
	if only == nil {
		return nil
	}
	return []uuid.UUID{*only}
}

// pools are, for each product chosen, the active subscriptions of it the
// scope may use with free licenses: the one expiring last first, so that
// licenses last as long as they can.
func (st *licenseState) pools(sc scope, only *uuid.UUID, choices []licensing.Choice, now time.Time) map[string][]licensing.Slot {
	out := map[string][]licensing.Slot{}
	for _, ch := range choices {
		var subs []*subscription.Subscription
		for _, id := range st.ids {
			s := st.subs[id]
			if s.ProductID() == ch.ProductID && s.Free(now) > 0 && sc.mayUse(s) && (only == nil || *only == id) {
				subs = append(subs, s)
			}
		}
		slices.SortStableFunc(subs, func(a, b *subscription.Subscription) int { return b.ExpiresAt().Compare(a.ExpiresAt()) })
		for _, s := range subs {
			out[ch.ProductID] = append(out[ch.ProductID], licensing.Slot{SubscriptionID: s.ID(), Free: s.Free(now)})
		}
	}
	return out
}

// onlyUsable checks that the one subscription of a self-service request
// is the account's and in the scope.
func (st *licenseState) onlyUsable(sc scope, only *uuid.UUID) error {
	if only == nil {
		return nil
	}
	s, ok := st.subs[*only]
	if !ok || !sc.mayUse(s) {
		return fmt.Errorf("subscription %s: %w", *only, domain.ErrNotFound)
	}
	return nil
}
