package kit

import (
	"net/url"
	"strings"
)

// QueryProblem names the first parameter of a raw query string that does
// not parse (a bad %-escape, a ';' between parameters), or is nil. Such a
// pair is dropped without a word by url.Values, and a list would answer
// unfiltered or a limit be ignored.
func QueryProblem(rawQuery string) *Problem {
	if _, err := url.ParseQuery(rawQuery); err == nil {
		return nil
	}
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
