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
// before, which is the sort key of that page's last row as opaque text.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// EncodeCursor is the opaque cursor of a sort key: its JSON, in base64url.
func EncodeCursor(key any) string {
	b, _ := json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor EncodeCursor made into key, reporting
// whether it could. Only a cursor made for such a key reads: one that,
// written again from the key, is the same text. JSON with a field the key
// lacks, or without one it has, would otherwise read as a first page, and
// a client that mangled a cursor would page through the list again.
func DecodeCursor(s string, key any) bool {
	s = strings.TrimRight(s, "=")
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && json.Unmarshal(b, key) == nil && EncodeCursor(key) == s
}

// Page cuts rows, read one past limit, to a page, with the cursor of the
// last row's key when there were more.
func Page[R any](rows []R, limit int, key func(R) any) ([]R, *string) {
	if len(rows) <= limit {
		if rows == nil {
			rows = []R{}
		}
		return rows, nil
	}
	next := EncodeCursor(key(rows[limit-1]))
	return rows[:limit], &next
}

// PageQuery reads ?limit and ?cursor of a list with one order, decoding
// the cursor into after (left as it is on a first page), or answers the
// problem naming the bad parameter.
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
	if s := q.Get("cursor"); s != "" && !DecodeCursor(s, after) {
		bad = append(bad, FieldProblem{Field: "cursor", Reason: "malformed cursor: pass nextCursor as it was given"})
	}
	if len(bad) > 0 {
		return 0, Invalid(bad...)
	}
	return limit, nil
}
