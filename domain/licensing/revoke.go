package licensing

import (
	"slices"
	"strconv"

	"github.com/google/uuid"
)

// Release is what to record on one subscription: users whose license of
// its product goes back to it.
type Release struct {
	SubscriptionID uuid.UUID
	ProductID      string
	UserIDs        []uuid.UUID
}

// Revoke decides a revocation: for every user and product, revoked, not
// held, or refused. A user of another account (or no user at all) is
// refused; a user who is not active may lose licenses (that frees them).
// A product another product the user keeps requires is refused
// (required-by-held), checked again until nothing changes, so revoking a
// product together with everything that requires it works. mayChange says
// whether the caller may change a subscription: a license held through
// one it may not change is refused.
func (c *Catalog) Revoke(users []User, productIDs []string, mayChange func(uuid.UUID) bool) ([]Result, []Release) {
	results := make([]Result, 0, len(users)*len(productIDs))
	at := map[uuid.UUID]int{}
	var releases []Release
	for _, u := range users {
		row := c.revokeOne(u, productIDs, mayChange)
		for pi, p := range productIDs {
			d := row[pi]
			r := Result{UserID: u.ID, ProductID: p, Outcome: d.outcome, Reason: d.reason, Detail: d.detail}
			if d.pending {
				r.Outcome = Revoked
				for _, sub := range u.Holds[p] {
					r.SubscriptionID = &sub
					g, ok := at[sub]
					if !ok {
						g, at[sub] = len(releases), len(releases)
						releases = append(releases, Release{SubscriptionID: sub, ProductID: p})
					}
					releases[g].UserIDs = append(releases[g].UserIDs, u.ID)
				}
			}
			results = append(results, r)
		}
	}
	return results, releases
}

// revokeOne decides one user's revocations (pending: to be revoked).
func (c *Catalog) revokeOne(u User, productIDs []string, mayChange func(uuid.UUID) bool) []decision {
	row := make([]decision, len(productIDs))
	for pi, p := range productIDs {
		switch {
		case !u.InAccount:
			row[pi] = refused(UserNotInAccount, "")
		case len(u.Holds[p]) == 0:
			row[pi] = decision{outcome: NotHeld}
		case slices.ContainsFunc(u.Holds[p], func(s uuid.UUID) bool { return !mayChange(s) }):
			row[pi] = refused(OutsideScope, "")
		default:
			row[pi] = decision{pending: true}
		}
	}
	for changed := true; changed; {
		changed = false
		for pi, p := range productIDs {
			if !row[pi].pending {
				continue
			}
			for _, kept := range sortedKeys(u.Holds) {
				if i := slices.Index(productIDs, kept); (i < 0 || !row[i].pending) && slices.Contains(c.requires(kept), p) {
					row[pi], changed = refused(RequiredByHeld, kept), true
					break
				}
			}
		}
	}
	return row
}

func itoa(n int) string { return strconv.Itoa(n) }
