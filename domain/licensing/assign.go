package licensing

import (
	"slices"

	"github.com/google/uuid"
)

// Limits of one request.
const (
	// MaxBulkUsers and MaxBulkProducts bound AssignLicenses and
	// RevokeLicenses.
	MaxBulkUsers    = 10_000
	MaxBulkProducts = 20
	// MaxSelfServiceUsers bounds assigning or unassigning one
	// subscription's licenses (the self-service flow).
	MaxSelfServiceUsers = 20
)

// User is a user of a request as the rules see them.
type User struct {
	ID        uuid.UUID
	InAccount bool
	// Active: the user accepted an invitation (signed in at least once).
	Active bool
	// Erased: the user's personal data was erased; they act as nobody.
	Erased  bool
	Country string
	// Holds are the products the user holds now, each with the active
	// subscriptions it comes from (one, normally).
	Holds map[string][]uuid.UUID
}

// Choice is a product asked for, with the service plans chosen (all of
// the product's when nil).
type Choice struct {
	ProductID    string
	ServicePlans []string
}

// Slot is a subscription a product's licenses may come from, with its
// free licenses, in the order they are used.
type Slot struct {
	SubscriptionID uuid.UUID
	Free           int
}

// Grant is what to record on one subscription: users given its product
// with these service plans.
type Grant struct {
	SubscriptionID uuid.UUID
	ProductID      string
	ServicePlans   []string
	UserIDs        []uuid.UUID
}

// decision is the state of one user and product while deciding.
type decision struct {
	outcome        Outcome
	reason, detail string
	pending        bool // still to be assigned, if licenses suffice
}

// Assign decides a request: for every user and every chosen product,
// assigned, already held, or refused with its reason. The rules, in the
// order they are checked for a user and product:
//
//  1. the user must be a user of the account, not erased (an erased
//     user never signs in again) and active (accepted an invitation):
//     licenses go to people who can use them;
//  2. a product the user holds already is left as it is (already_held);
//  3. the product must be sold in the user's country;
//  4. it may not conflict with a product the user holds, nor with
//     another product the user gets in the same request (then both are
//     refused: the request does not say which one to keep);
//  5. every product it requires must be held, or given in the same
//     request (refused when that one is refused);
//  6. all or nothing per product: when a product's free licenses (pools
//     of the subscriptions the caller may use) are fewer than the users
//     who passed the rules above, none of them gets it, and rule 5 is
//     checked again without it.
//
// The grants fill the slots of each product in the order given.
func (c *Catalog) Assign(users []User, choices []Choice, pools map[string][]Slot) ([]Result, []Grant) {
	grid := make([][]decision, len(users))
	for i, u := range users {
		grid[i] = c.screen(u, choices)
	}
	failed := map[string]bool{}
	for {
		for i, u := range users {
			c.checkRequirements(u, choices, grid[i], failed)
		}
		short := map[string]bool{}
		for pi, ch := range choices {
			if failed[ch.ProductID] {
				continue
			}
			need := 0
			for i := range users {
				if grid[i][pi].pending {
					need++
				}
			}
			if need > free(pools[ch.ProductID]) {
				short[ch.ProductID] = true
			}
		}
		if len(short) == 0 {
			break
		}
		// Only a product whose own requirements are not short fails in
		// this round: the users counted for the others may lose what
		// they require, and then need fewer licenses than counted.
		for p := range short {
			if !slices.ContainsFunc(c.Closure(p), func(r string) bool { return short[r] }) {
				failed[p] = true
			}
		}
	}
	return allocate(users, choices, pools, grid, failed)
}

// screen applies rules 1 to 4 to one user.
func (c *Catalog) screen(u User, choices []Choice) []decision {
	row := make([]decision, len(choices))
	for pi, ch := range choices {
		p, inCatalog := c.Product(ch.ProductID)
		switch {
		case !u.InAccount:
			row[pi] = refused(UserNotInAccount, "")
		case u.Erased:
			row[pi] = refused(UserErased, "")
		case !u.Active:
			row[pi] = refused(UserNotActive, "")
		case len(u.Holds[ch.ProductID]) > 0:
			row[pi] = decision{outcome: AlreadyHeld}
		case inCatalog && !p.SoldIn(u.Country):
			row[pi] = refused(NotSoldInCountry, u.Country)
		default:
			row[pi] = decision{pending: true}
		}
	}
	for pi, ch := range choices {
		if !row[pi].pending {
			continue
		}
		for _, held := range sortedKeys(u.Holds) {
			if c.conflicts(ch.ProductID, held) {
				row[pi] = refused(ConflictsWithHeld, held)
				break
			}
		}
	}
	clash := make([]string, len(choices))
	for pi, ch := range choices {
		for qi, other := range choices {
			if qi != pi && row[pi].pending && row[qi].pending && c.conflicts(ch.ProductID, other.ProductID) {
				clash[pi] = other.ProductID
				break
			}
		}
	}
	for pi, other := range clash {
		if other != "" {
			row[pi] = refused(ConflictsInRequest, other)
		}
	}
	return row
}

// checkRequirements applies rule 5 to one user until nothing changes:
// a product stays pending only while everything it requires is held or
// pending, and not failed for want of licenses.
func (c *Catalog) checkRequirements(u User, choices []Choice, row []decision, failed map[string]bool) {
	for changed := true; changed; {
		changed = false
		will := map[string]bool{}
		for p, subs := range u.Holds {
			will[p] = len(subs) > 0
		}
		for pi, ch := range choices {
			if row[pi].pending && !failed[ch.ProductID] {
				will[ch.ProductID] = true
			}
		}
		for pi, ch := range choices {
			if !row[pi].pending {
				continue
			}
			for _, r := range c.requires(ch.ProductID) {
				if !will[r] {
					row[pi], changed = refused(RequiresProduct, r), true
					break
				}
			}
		}
	}
}

// allocate turns the pending decisions into results and grants, and the
// pending decisions of failed products into refusals.
func allocate(users []User, choices []Choice, pools map[string][]Slot, grid [][]decision, failed map[string]bool) ([]Result, []Grant) {
	results := make([]Result, 0, len(users)*len(choices))
	at := map[uuid.UUID]int{} // grant index by subscription
	var grants []Grant
	used := make([][]int, len(choices)) // licenses taken from each slot
	for pi, ch := range choices {
		used[pi] = make([]int, len(pools[ch.ProductID]))
	}
	for i, u := range users {
		for pi, ch := range choices {
			d := grid[i][pi]
			r := Result{UserID: u.ID, ProductID: ch.ProductID, Outcome: d.outcome, Reason: d.reason, Detail: d.detail}
			switch {
			case d.pending && failed[ch.ProductID]:
				r.Outcome, r.Reason = Refused, NotEnoughLicenses
				r.Detail = "available " + itoa(free(pools[ch.ProductID]))
			case d.pending:
				slot := nextSlot(pools[ch.ProductID], used[pi])
				sub := pools[ch.ProductID][slot].SubscriptionID
				used[pi][slot]++
				r.Outcome, r.SubscriptionID = Assigned, &sub
				g, ok := at[sub]
				if !ok {
					g, at[sub] = len(grants), len(grants)
					grants = append(grants, Grant{SubscriptionID: sub, ProductID: ch.ProductID, ServicePlans: ch.ServicePlans})
				}
				grants[g].UserIDs = append(grants[g].UserIDs, u.ID)
			}
			results = append(results, r)
		}
	}
	return results, grants
}

// nextSlot is the first slot with a license left (Assign checked that
// there is one).
func nextSlot(slots []Slot, used []int) int {
	for i, s := range slots {
		if used[i] < s.Free {
			return i
		}
	}
	panic("licensing: allocate beyond the free licenses")
}

func free(slots []Slot) int {
	n := 0
	for _, s := range slots {
		n += max(s.Free, 0)
	}
	return n
}

func refused(reason, detail string) decision {
	return decision{outcome: Refused, reason: reason, detail: detail}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
