package licensing

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
)

// CheckUsers validates the users of a request: 1 to limit ids, none nil.
// Repeats are dropped, the first one kept in place.
func CheckUsers(ids []uuid.UUID, limit int, verr *domain.ValidationError) []uuid.UUID {
	var out []uuid.UUID
	seen := make(map[uuid.UUID]bool, len(ids))
	for i, id := range ids {
		if id == uuid.Nil {
			verr.Add(fmt.Sprintf("userIds[%d]", i), "must be a user id")
			continue
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(ids) == 0 || len(out) > limit {
		verr.Add("userIds", fmt.Sprintf("from 1 to %d users", limit))
	}
	return out
}

// CheckChoices validates the products of an assignment: 1 to
// MaxBulkProducts, each at most once and known (in the catalog, or bought
// for the account although the catalog does not list it: purchased), with
// service plans of its own, at most once each. Nil service plans become
// all of the product's; an empty list is refused (a license with nothing
// switched on is no license).
func (c *Catalog) CheckChoices(in []Choice, purchased func(productID string) bool, verr *domain.ValidationError) []Choice {
	if len(in) == 0 || len(in) > MaxBulkProducts {
		verr.Add("products", fmt.Sprintf("from 1 to %d products", MaxBulkProducts))
	}
	out := make([]Choice, 0, len(in))
	for i, ch := range in {
		field := fmt.Sprintf("products[%d]", i)
		if !c.known(ch.ProductID, purchased) {
			verr.Add(field+".productId", "not a product of the catalog or of the account's subscriptions")
			continue
		}
		if slices.ContainsFunc(in[:i], func(o Choice) bool { return o.ProductID == ch.ProductID }) {
			verr.Add(field+".productId", "listed twice")
			continue
		}
		var all []string
		if p, ok := c.Product(ch.ProductID); ok {
			all = p.PlanIDs()
		}
		plans, why := checkPlans(ch.ServicePlans, all)
		if why != "" {
			verr.Add(field+".servicePlans", why)
		}
		out = append(out, Choice{ProductID: ch.ProductID, ServicePlans: plans})
	}
	return out
}

// CheckProducts validates the products of a revocation: 1 to
// MaxBulkProducts known products, each at most once.
func (c *Catalog) CheckProducts(ids []string, purchased func(productID string) bool, verr *domain.ValidationError) {
	if len(ids) == 0 || len(ids) > MaxBulkProducts {
		verr.Add("productIds", fmt.Sprintf("from 1 to %d products", MaxBulkProducts))
	}
	for i, id := range ids {
		switch {
		case !c.known(id, purchased):
			verr.Add(fmt.Sprintf("productIds[%d]", i), "not a product of the catalog or of the account's subscriptions")
		case slices.Contains(ids[:i], id):
			verr.Add(fmt.Sprintf("productIds[%d]", i), "listed twice")
		}
	}
}

func (c *Catalog) known(id string, purchased func(string) bool) bool {
	_, ok := c.Product(id)
	return ok || purchased(id)
}

// checkPlans returns the plans chosen in catalog order (all when none
// were chosen), or why they are not acceptable.
func checkPlans(chosen, all []string) ([]string, string) {
	if chosen == nil {
		return slices.Clone(all), ""
	}
	if len(chosen) == 0 {
		return nil, "at least one service plan; leave the field out for all of them"
	}
	for i, p := range chosen {
		if !slices.Contains(all, p) {
			return nil, fmt.Sprintf("%q is not a service plan of the product", p)
		}
		if slices.Contains(chosen[:i], p) {
			return nil, fmt.Sprintf("%q listed twice", p)
		}
	}
	var out []string
	for _, p := range all {
		if slices.Contains(chosen, p) {
			out = append(out, p)
		}
	}
	return out, ""
}
