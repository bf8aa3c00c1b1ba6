package kit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
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

// ListOf names the list a request reads, as its cursors carry it: the
// path (the account, stream or subscription) and every parameter but
// those that page it, as a short hash. A cursor is the key of a row of
// one list: in another account's list, or with other filters, it would
// go on after that key in a list it was never of, and quietly leave out
// what comes before it.
func ListOf(r *http.Request) string {
	q := url.Values{}
	for k, v := range r.URL.Query() {
		if !pagingParams[k] {
			q[k] = v
		}
	}
	sum := sha256.Sum256([]byte(r.URL.Path + "?" + q.Encode()))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// pagingParams change the page, not the list (a sort is checked on its
// own, with its own reason).
var pagingParams = map[string]bool{"cursor": true, "limit": true, "after": true, "sort": true}

// Listed, in a cursor's key, is the list the cursor pages (ListOf):
// PageQuery refuses it on another list. An earlier release's cursor
// names none, and pages the list it is given to, as that release took
// it, so that a client paging across a rolling deploy goes on.
type Listed struct {
	List string `json:"l,omitempty"`
}

func (l Listed) listed() string { return l.List }

// ErrOtherList is why a cursor of another list is refused.
const ErrOtherList = "the cursor belongs to another list (another account, stream or filters): " +
	"keep the first page's path and parameters and add the cursor, or start again without it"

// PageQuery reads ?limit and ?cursor of a list with one order, decoding
// the cursor into after (left as it is on a first page), or answers the
// problem naming the bad parameter. A key that embeds Listed is checked
// to be of the request's list.
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
	} else if k, ok := after.(interface{ listed() string }); ok && s != "" && k.listed() != "" && k.listed() != ListOf(r) {
		bad = append(bad, FieldProblem{Field: "cursor", Reason: ErrOtherList})
	}
	if len(bad) > 0 {
		return 0, Invalid(bad...)
	}
	return limit, nil
}
