package readapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// keyCol is one column of a sort key: fixed SQL, the type its cursor value
// is bound as, and how to read that value from a row.
type keyCol struct {
	sql   string
	cast  string // "text", "timestamptz" or "uuid"
	value func(userRow) string
}

var (
	emailKey   = keyCol{"u.email_lower", "text", func(r userRow) string { return r.emailLower }}
	nameKey    = keyCol{"u.name_sort", "text", func(r userRow) string { return r.nameSort }}
	statusKey  = keyCol{statusSQL, "text", func(r userRow) string { return r.Status }}
	invitedKey = keyCol{"u.invited_at", "timestamptz", func(r userRow) string { return r.InvitedAt.Format(time.RFC3339Nano) }}
	idKey      = keyCol{"u.user_id", "uuid", func(r userRow) string { return r.UserID }}
)

// sortKeys is the whitelist of sorts; user_id always ends the key, so the
// order is total and keyset pages never skip or repeat a row. Statuses
// sort alphabetically (active, expired, pending), then by email.
var sortKeys = map[string][]keyCol{
	"email":     {emailKey},
	"name":      {nameKey},
	"invitedAt": {invitedKey},
	"status":    {statusKey, emailKey},
}

// sortOrder is a parsed ?sort: its name as given ("-email"), its columns
// (user id last) and direction.
type sortOrder struct {
	name string
	cols []keyCol
	desc bool
}

// parseSort reads ?sort: a key of sortKeys, "-" first for descending.
func (in *input) parseSort() (sortOrder, bool) {
	name := in.values.Get("sort")
	if name == "" {
		name = "email"
	}
	key, desc := strings.CutPrefix(name, "-")
	cols, ok := sortKeys[key]
	if !ok {
		in.fail("sort", "must be one of "+strings.Join(slices.Sorted(maps.Keys(sortKeys)), ", ")+", each optionally prefixed with - for descending")
		return sortOrder{}, false
	}
	return sortOrder{name: name, cols: append(cols[:len(cols):len(cols)], idKey), desc: desc}, true
}

// cursor is the position after the last row of a page, for one sort: the
// row's values of the sort's columns, user id last.
type cursor struct {
	Sort string   `json:"s"`
	Keys []string `json:"k"`
}

const malformedCursor = "malformed cursor: pass nextCursor as it was given"

// encodeCursor is the opaque nextCursor after row r.
func encodeCursor(o sortOrder, r userRow) string {
	c := cursor{Sort: o.name}
	for _, k := range o.cols {
		c.Keys = append(c.Keys, k.value(r))
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor of sort o into the arguments its keyset
// condition binds; the reason when it cannot.
func decodeCursor(s string, o sortOrder) ([]any, string) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || json.Unmarshal(b, &c) != nil || len(c.Keys) != len(o.cols) {
		return nil, malformedCursor
	}
	if c.Sort != o.name {
		return nil, "the cursor belongs to another sort than " + o.name + ": start again without it"
	}
	if !keysFit(c.Keys) {
		return nil, malformedCursor
	}
	args := make([]any, len(c.Keys))
	for i, k := range o.cols {
		var err error
		switch k.cast {
		case "timestamptz":
			args[i], err = time.Parse(time.RFC3339Nano, c.Keys[i])
		case "uuid":
			args[i], err = uuid.Parse(c.Keys[i])
		default:
			args[i] = c.Keys[i]
		}
		if err != nil {
			return nil, malformedCursor
		}
	}
	return args, ""
}

// keyset is the condition "after the cursor" and the order of sort o; the
// cursor's values are bound as arguments after args.
func (o sortOrder) keyset(args, after []any) (cond, order string, _ []any) {
	dir, op := " ASC", ">"
	if o.desc {
		dir, op = " DESC", "<"
	}
	cols, params, orders := make([]string, len(o.cols)), make([]string, len(o.cols)), make([]string, len(o.cols))
	for i, k := range o.cols {
		cols[i], orders[i] = k.sql, k.sql+dir
		if after != nil {
			args = append(args, after[i])
			params[i] = fmt.Sprintf("$%d::%s", len(args), k.cast)
		}
	}
	if after != nil {
		cond = " AND (" + strings.Join(cols, ", ") + ") " + op + " (" + strings.Join(params, ", ") + ")"
	}
	return cond, strings.Join(orders, ", "), args
}

// maxKey bounds one value of a cursor: longer than any sort column holds.
const maxKey = 1024

// keysFit reports whether a cursor's values can be what a page ended on:
// short, and free of NUL (which PostgreSQL refuses in text), so that a
// crafted cursor is a 400, never a failed query.
func keysFit(keys []string) bool {
	for _, k := range keys {
		if len(k) > maxKey || strings.ContainsRune(k, 0) {
			return false
		}
	}
	return true
}
