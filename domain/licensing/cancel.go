package licensing

import (
	"slices"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
)

// CheckEnd decides whether subscription sub, of productID, may end (be
// cancelled) while holders hold its licenses. Holders are its holders,
// each with what they hold through the account's active subscriptions
// (sub among them). A holder who would no longer hold productID (they
// hold it through no other active subscription) but keeps a product that
// requires it refuses the end, as a revocation of it is refused
// (required-by-held): a cancellation does not silently strand a
// dependent product, nor take it away. Revoking the dependent products
// first (or together with this one, in one bulk revocation) lets it end.
func (c *Catalog) CheckEnd(productID string, sub uuid.UUID, holders []User) error {
	stranded := map[string]int{} // dependent product -> holders keeping it
	for _, u := range holders {
		if slices.ContainsFunc(u.Holds[productID], func(s uuid.UUID) bool { return s != sub }) {
			continue // still held through another subscription
		}
		for _, kept := range sortedKeys(u.Holds) {
			if kept != productID && slices.Contains(c.requires(kept), productID) {
				stranded[kept]++
			}
		}
	}
	if len(stranded) == 0 {
		return nil
	}
	detail := ""
	for _, p := range sortedKeys(stranded) {
		if detail != "" {
			detail += ", "
		}
		detail += itoa(stranded[p]) + " of its users hold " + c.name(p)
	}
	return &domain.RuleError{Code: RequiredByHeld,
		Detail: detail + ", which requires " + c.name(productID) + ": revoke it from them first (or together with " + c.name(productID) + ")"}
}

// RequiredBy reports whether any product of the catalog requires id.
func (c *Catalog) RequiredBy(id string) bool {
	return slices.ContainsFunc(c.Products, func(p Product) bool { return slices.Contains(p.Requires, id) })
}

// name is a product's name, or its id outside the catalog.
func (c *Catalog) name(id string) string {
	if p, ok := c.byID[id]; ok {
		return p.Name + " (" + id + ")"
	}
	return id
}
