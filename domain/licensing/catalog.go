// Package licensing is the product catalog and the rules of assigning
// licenses to users: who may get which product, with which service plans,
// and which requests the licenses available can serve. It decides; the
// subscription aggregate records (domain/subscription/licenses.go).
package licensing

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Product is one product of the catalog.
type Product struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	ServicePlans []Plan `json:"servicePlans"`
	// Countries are the ISO 3166-1 alpha-2 codes where it is sold; ["*"]
	// is everywhere.
	Countries []string `json:"countries"`
	// Requires lists the products a user must hold (every one of them)
	// to hold this one.
	Requires []string `json:"requires,omitempty"`
	// ConflictsWith lists the products a user may not hold beside this
	// one. Declared on either side, it holds both ways.
	ConflictsWith []string `json:"conflictsWith,omitempty"`
}

// Plan is a service plan of a product: a part a license may switch on.
type Plan struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Catalog is a validated catalog file.
type Catalog struct {
	Version  int       `json:"version"`
	Products []Product `json:"products"`
	byID     map[string]*Product
}

//go:embed catalog.json
var catalogFile []byte

// Default is the catalog of this build (domain/licensing/catalog.json),
// validated; an invalid file is an error at start.
func Default() (*Catalog, error) { return Parse(catalogFile) }

var (
	productID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	country   = regexp.MustCompile(`^[A-Z]{2}$`)
)

// Parse reads and validates a catalog: every problem is reported at once
// (unknown references, cycles in requirements, a product requiring one it
// conflicts with, duplicates, malformed ids and countries).
func Parse(b []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c.byID = map[string]*Product{}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Version < 1 {
		bad("version must be 1 or more")
	}
	for i := range c.Products {
		p := &c.Products[i]
		if !productID.MatchString(p.ID) {
			bad("product %q: id must be 1 to 64 lower-case letters, digits, dots, dashes or underscores", p.ID)
		}
		if _, dup := c.byID[p.ID]; dup {
			bad("product %q: listed twice", p.ID)
		}
		c.byID[p.ID] = p
		errs = append(errs, p.check()...)
	}
	for i := range c.Products {
		errs = append(errs, c.checkReferences(&c.Products[i])...)
	}
	if len(errs) == 0 {
		c.symmetricConflicts()
		errs = append(errs, c.checkGraph()...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("catalog version %d: %w", c.Version, err)
	}
	return &c, nil
}

// check reports what is wrong with a product on its own.
func (p *Product) check() []error {
	var errs []error
	if strings.TrimSpace(p.Name) == "" {
		errs = append(errs, fmt.Errorf("product %q: a name is required", p.ID))
	}
	seen := map[string]bool{}
	for _, pl := range p.ServicePlans {
		if !productID.MatchString(pl.ID) || strings.TrimSpace(pl.Name) == "" {
			errs = append(errs, fmt.Errorf("product %q: service plan %q needs an id like a product's and a name", p.ID, pl.ID))
		}
		if seen[pl.ID] {
			errs = append(errs, fmt.Errorf("product %q: service plan %q listed twice", p.ID, pl.ID))
		}
		seen[pl.ID] = true
	}
	switch {
	case len(p.Countries) == 0:
		errs = append(errs, fmt.Errorf("product %q: countries are required ([\"*\"] for everywhere)", p.ID))
	case slices.Contains(p.Countries, "*") && len(p.Countries) > 1:
		errs = append(errs, fmt.Errorf("product %q: \"*\" stands alone in countries", p.ID))
	case !slices.Contains(p.Countries, "*"):
		for _, cc := range p.Countries {
			if !country.MatchString(cc) {
				errs = append(errs, fmt.Errorf("product %q: country %q is not an ISO 3166-1 alpha-2 code", p.ID, cc))
			}
		}
	}
	return errs
}

// checkReferences reports references to unknown products and to itself.
func (c *Catalog) checkReferences(p *Product) []error {
	var errs []error
	for kind, refs := range map[string][]string{"requires": p.Requires, "conflictsWith": p.ConflictsWith} {
		for _, r := range refs {
			switch {
			case r == p.ID:
				errs = append(errs, fmt.Errorf("product %q: %s names itself", p.ID, kind))
			case c.byID[r] == nil:
				errs = append(errs, fmt.Errorf("product %q: %s names unknown product %q", p.ID, kind, r))
			}
		}
	}
	return errs
}

// symmetricConflicts makes each conflict hold both ways.
func (c *Catalog) symmetricConflicts() {
	for i := range c.Products {
		p := &c.Products[i]
		for _, q := range p.ConflictsWith {
			other := c.byID[q]
			if !slices.Contains(other.ConflictsWith, p.ID) {
				other.ConflictsWith = append(other.ConflictsWith, p.ID)
			}
		}
	}
	for i := range c.Products {
		slices.Sort(c.Products[i].ConflictsWith)
	}
}

// checkGraph reports cycles of requirements, and products that
// need (directly or through others) a product they conflict with, which
// nobody could ever hold.
func (c *Catalog) checkGraph() []error {
	var errs []error
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(id string)
	visit = func(id string) {
		switch state[id] {
		case onPath:
			cycle := append(path[slices.Index(path, id):], id)
			errs = append(errs, fmt.Errorf("requirements form a cycle: %s", strings.Join(cycle, " -> ")))
			return
		case done:
			return
		}
		state[id], path = onPath, append(path, id)
		for _, r := range c.byID[id].Requires {
			visit(r)
		}
		state[id], path = done, path[:len(path)-1]
	}
	for _, p := range c.Products {
		visit(p.ID)
	}
	if len(errs) > 0 {
		return errs
	}
	for _, p := range c.Products {
		if n, m, ok := c.selfConflict(p.ID); ok {
			errs = append(errs, fmt.Errorf("product %q: needs %q, which conflicts with %q", p.ID, n, m))
		}
	}
	return errs
}

// selfConflict finds a product that id needs and that conflicts with id
// or with another product it needs.
func (c *Catalog) selfConflict(id string) (needed, conflicting string, found bool) {
	needs := c.Closure(id)
	all := append(slices.Clone(needs), id)
	for _, n := range needs {
		for _, m := range all {
			if c.conflicts(n, m) {
				return n, m, true
			}
		}
	}
	return "", "", false
}

// Closure is every product a product needs, directly or through others
// (the catalog has no cycles), sorted.
func (c *Catalog) Closure(id string) []string {
	var out []string
	var walk func(string)
	walk = func(id string) {
		for _, r := range c.byID[id].Requires {
			if !slices.Contains(out, r) {
				out = append(out, r)
				walk(r)
			}
		}
	}
	if c.byID[id] != nil {
		walk(id)
	}
	slices.Sort(out)
	return out
}

// Product returns a product of the catalog.
func (c *Catalog) Product(id string) (*Product, bool) {
	p, ok := c.byID[id]
	return p, ok
}

// SoldIn reports whether a product is sold in a country.
func (p *Product) SoldIn(countryCode string) bool {
	return slices.Contains(p.Countries, "*") || slices.Contains(p.Countries, countryCode)
}

// PlanIDs are the ids of the product's service plans, in catalog order.
func (p *Product) PlanIDs() []string {
	out := make([]string, len(p.ServicePlans))
	for i, pl := range p.ServicePlans {
		out[i] = pl.ID
	}
	return out
}

// conflicts reports whether two products may not be held together.
func (c *Catalog) conflicts(a, b string) bool {
	p, ok := c.byID[a]
	return ok && slices.Contains(p.ConflictsWith, b)
}

// requires are the products a product requires directly (none for a
// product outside the catalog).
func (c *Catalog) requires(id string) []string {
	if p, ok := c.byID[id]; ok {
		return p.Requires
	}
	return nil
}
