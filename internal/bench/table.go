package bench

import (
	"fmt"
	"math"
)

// Row is one figure of the report: bizcenter's, the raw PostgreSQL
// baseline of the same run when it has one, and the target.
type Row struct {
	Name string
	V    float64
	Unit string
	Base string // the baseline's name; empty when there is none
	B    float64
	// BaseUnit is the baseline's unit when it is not Unit.
	BaseUnit string
	Target   string // e.g. "ratio >= 0.5"; empty when the issue sets none
	Met      bool
}

// Ratio is V/B.
func (r Row) Ratio() float64 { return r.V / r.B }

// RatioAtLeast sets the target ratio >= x.
func (r Row) RatioAtLeast(x float64) Row {
	r.Target, r.Met = fmt.Sprintf("ratio >= %g", x), r.Ratio() >= x
	return r
}

// RatioAtMost sets the target ratio <= x.
func (r Row) RatioAtMost(x float64) Row {
	r.Target, r.Met = fmt.Sprintf("ratio <= %g", x), r.Ratio() <= x
	return r
}

// AtMost sets the target V <= x.
func (r Row) AtMost(x float64) Row {
	r.Target, r.Met = fmt.Sprintf("<= %g %s", x, r.Unit), r.V <= x
	return r
}

// Table is the report.
type Table []Row

// Print writes the table to stdout.
func (t Table) Print() {
	if len(t) == 0 {
		return
	}
	name, base := len("measure (PostgreSQL event store)"), len("raw PostgreSQL baseline, same run")
	for _, r := range t {
		name, base = max(name, len(r.Name)), max(base, len(r.Base))
	}
	line := fmt.Sprintf("%%-%ds %%14s   %%-%ds %%14s  %%7s  %%s\n", name, base)
	fmt.Printf("\n"+line, "measure (PostgreSQL event store)", "bizcenter", "raw PostgreSQL baseline, same run", "baseline", "ratio", "target")
	for _, r := range t {
		ratio, b := "", ""
		if r.Base != "" {
			unit := r.BaseUnit
			if unit == "" {
				unit = r.Unit
			}
			ratio, b = fmt.Sprintf("%7.3f", r.Ratio()), figure(r.B, unit)
		}
		target := r.Target
		if target != "" {
			target += map[bool]string{true: "  met", false: "  MISSED"}[r.Met]
		}
		fmt.Printf(line, r.Name, figure(r.V, r.Unit), r.Base, b, ratio, target)
	}
}

// figure formats a value with its unit: milliseconds with two decimals.
func figure(v float64, unit string) string {
	if unit == "ms" || math.Abs(v) < 10 {
		return fmt.Sprintf("%.2f %-6s", v, unit)
	}
	return fmt.Sprintf("%.0f %-6s", v, unit)
}

// Add appends a row.
func (t *Table) Add(r Row) { *t = append(*t, r) }
