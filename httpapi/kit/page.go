package kit

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Lists answer a page at a time (API.md): ?limit= from 1 to MaxLimit
// (DefaultLimit when left out) and ?cursor=, the nextCursor of the page
// before. These are for the routes outside the read API, whose own lists
// sort in several ways (readapi's keyOrder); here a list has one order and
// its cursor is the sort key of the page's last row, as a JSON value.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// PageQuery reads ?limit and ?cursor, decoding the cursor into after
// (left as it is on a first page), or answers the problem naming the bad
// parameter.
func PageQuery(r *http.Request, after any) (limit int, problem *Problem) {
	q := r.URL.Query()
	limit = DefaultLimit
	var bad []FieldProblem
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			bad = append(bad, FieldProblem{Field: "limit", Reason: "must be an integer from 1 to " + strconv.Itoa(MaxLimit)})
		}
		limit = n
	}
	if s := q.Get("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil || json.Unmarshal(b, after) != nil {
			bad = append(bad, FieldProblem{Field: "cursor", Reason: "malformed cursor: pass nextCursor as it was given"})
		}
	}
	if len(bad) > 0 {
		return 0, Invalid(bad...)
	}
	return limit, nil
}

// NextCursor is the opaque nextCursor after a page's last row, given its
// sort key; nil when the page is the last (more is false).
func NextCursor(key any, more bool) *string {
	if !more {
		return nil
	}
	b, _ := json.Marshal(key)
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}
