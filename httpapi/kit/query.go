package kit

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// QueryProblem names what is wrong with a route's raw query, or is nil:
// a parameter that does not parse, one the route does not take
// (declared: its Route.Query), or one given more than once.
func QueryProblem(rawQuery string, declared map[string]string) *Problem {
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return unparseable(rawQuery)
	}
	return notTaken(query, declared)
}

// unparseable names the first parameter of a raw query string that does
// not parse (a bad %-escape, a ';' between parameters). Such a pair is
// dropped without a word by url.Values, and a list would answer
// unfiltered or a limit be ignored.
func unparseable(rawQuery string) *Problem {
	for pair := range strings.SplitSeq(rawQuery, "&") {
		key, value, _ := strings.Cut(pair, "=")
		key, _, semicolon := strings.Cut(key, ";")
		name, err := url.QueryUnescape(key)
		if err != nil || name == "" {
			name = "query"
		}
		switch _, verr := url.QueryUnescape(value); {
		case semicolon || strings.Contains(value, ";"):
			return Invalid(FieldProblem{Field: name, Reason: "';' does not separate parameters: use '&', or %3B within a value"})
		case err != nil || verr != nil:
			return Invalid(FieldProblem{Field: name, Reason: "not URL-encoded correctly: '%' starts an escape like %25 or %2F"})
		}
	}
	return Invalid(FieldProblem{Field: "query", Reason: "unparseable query string"})
}

// notTaken names each parameter of query that the route does not take
// or that is given more than once, or is nil. url.Values keeps every
// value but routes read the first alone, so a repeat
// (?status=pending&status=active) would answer for one of the two without
// a word; and a misspelt filter (?stauts=pending) would answer the whole
// list as if it were the filtered one. No route takes a list as repeated
// parameters: lists are one comma-separated value (?userIds=).
func notTaken(query url.Values, declared map[string]string) *Problem {
	var bad []FieldProblem
	for _, name := range slices.Sorted(maps.Keys(query)) {
		_, takes := declared[name]
		switch n := len(query[name]); {
		case name == "":
			bad = append(bad, FieldProblem{Field: "query", Reason: "a parameter without a name"})
		case !takes:
			bad = append(bad, FieldProblem{Field: name, Reason: routeTakes(declared)})
		case n > 1:
			bad = append(bad, FieldProblem{Field: name, Reason: fmt.Sprintf("given %d times: give it once", n)})
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return Invalid(bad...)
}

func routeTakes(declared map[string]string) string {
	if len(declared) == 0 {
		return "not a parameter of this route, which takes none"
	}
	return "not a parameter of this route, which takes " + strings.Join(slices.Sorted(maps.Keys(declared)), ", ") +
		" (names are case-sensitive)"
}
