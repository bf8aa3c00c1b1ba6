package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/eventstore"
)

// batch is what one request appends to one subscription.
type batch struct {
	subscriptionID uuid.UUID
	productID      string
	users          []uuid.UUID
	events         []event.Event
}

type resultKey struct {
	user    uuid.UUID
	product string
}

// writes is what a license command recorded over its attempts, so that
// it answers for it after reading again: a user it gave a product reads as
// holding it (already held), and is answered as assigned.
type writes struct {
	outcome licensing.Outcome // Assigned or Revoked
	done    map[resultKey]uuid.UUID
	last    eventstore.Position
}

func newWrites(outcome licensing.Outcome) *writes {
	return &writes{outcome: outcome, done: map[resultKey]uuid.UUID{}}
}

// remember takes in what an earlier run of the command, with the same
// idempotency key, recorded in the streams read. Unlike other commands'
// earlier work, it is not answered before the caller's rights are
// checked (see WithIdempotencyKey): the events hold what was given or
// taken back, not the rest of the first answer (refusals, already held),
// so a run again decides again over the state as it is, and may give a
// user what the first run refused; that is work, checked as a new run's.
func (w *writes) remember(st *licenseState) {
	for id, l := range st.loaded {
		if l.mine == nil {
			continue
		}
		for _, e := range l.mine.events {
			switch e := e.(type) {
			case subscription.LicensesAssigned:
				w.mark(w.outcome == licensing.Assigned, id, e.ProductID, e.UserIDs)
			case subscription.LicensesUnassigned:
				w.mark(w.outcome == licensing.Revoked, id, e.ProductID, e.UserIDs)
			}
			if w.last.Less(l.mine.position) {
				w.last = l.mine.position
			}
		}
	}
}

func (w *writes) mark(ok bool, sub uuid.UUID, product string, users []uuid.UUID) {
	if !ok {
		return
	}
	for _, u := range users {
		w.done[resultKey{u, product}] = sub
	}
}

// answered turns the results of what this command already recorded
// (already held, or not held when revoking) into what it did.
func (w *writes) answered(results []licensing.Result) []licensing.Result {
	if len(w.done) == 0 {
		return results
	}
	for i, r := range results {
		sub, ok := w.done[resultKey{r.UserID, r.ProductID}]
		if ok && (r.Outcome == licensing.AlreadyHeld || r.Outcome == licensing.NotHeld) {
			results[i] = licensing.Result{UserID: r.UserID, ProductID: r.ProductID, Outcome: w.outcome, SubscriptionID: &sub}
		}
	}
	return results
}

// record appends each batch to its subscription with the revision read,
// and returns the position of the last event appended by this command
// (over every attempt). A concurrent change of a subscription stops it
// with ErrWrongExpectedRevision: what it appended before stays recorded.
func (w *writes) record(ctx context.Context, d Deps, st *licenseState, by origin, batches []batch) (eventstore.Position, error) {
	for _, b := range batches {
		if len(b.events) == 0 {
			continue
		}
		res, err := save(ctx, d, subscription.Stream(b.subscriptionID), st.loaded[b.subscriptionID], by, b.events...)
		if err != nil {
			return w.last, err
		}
		w.mark(true, b.subscriptionID, b.productID, b.users)
		w.last = res.Position
	}
	return w.last, nil
}
