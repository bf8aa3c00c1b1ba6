package readapi

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// Lists page by keyset: a page's nextCursor holds the sort key of its
// last row, and the next page is the rows after that key in the sort's
// order, so pages never skip or repeat a row as rows come and go.

// keyOf is one column of a sort key over rows R: fixed SQL, the type its
// cursor value is bound as, and how to read that value from a row.
type keyOf[R any] struct {
	sql   string
	cast  string // "text", "timestamptz", "uuid" or "numeric"
	value func(R) string
}

// keyOrder is a parsed ?sort over rows R: its name as given ("-price"),
// its columns (the row's id last, so the order is total and keyset pages
// never skip or repeat a row) and direction; and the list it pages
// (kit.ListOf), which its cursors carry.
type keyOrder[R any] struct {
	name string
	cols []keyOf[R]
	desc bool
	list string
}

// parseKeyOrder reads ?sort: a key of keys, "-" first for descending; the
// id column ends every order.
func parseKeyOrder[R any](in *input, def string, keys map[string][]keyOf[R], id keyOf[R]) (keyOrder[R], bool) {
	name := in.values.Get("sort")
	if name == "" {
		name = def
	}
	key, desc := strings.CutPrefix(name, "-")
	cols, ok := keys[key]
	if !ok {
		in.fail("sort", "must be one of "+strings.Join(slices.Sorted(maps.Keys(keys)), ", ")+", each optionally prefixed with - for descending")
		return keyOrder[R]{}, false
	}
	return keyOrder[R]{name: name, cols: append(cols[:len(cols):len(cols)], id), desc: desc, list: kit.ListOf(in.r)}, true
}

// ordered is the one order of a list, for the list the request reads.
func ordered[R any](in *input, o keyOrder[R]) keyOrder[R] {
	o.list = kit.ListOf(in.r)
	return o
}

// cursorQuery documents ?cursor on every list of the read API.
const cursorQuery = "nextCursor of the previous page, with the same path, sort and filters (limit may change); another list's is a 400"

// pageBy is a list's one order o, for the list the request reads, and
// the values ?cursor binds in it.
func pageBy[R any](in *input, o keyOrder[R]) (keyOrder[R], []any) {
	o = ordered(in, o)
	return o, cursorArgs(in, o, true)
}

// cursorArgs reads ?cursor for order o into the values its keyset binds
// (nil on a first page), recording a bad cursor.
func cursorArgs[R any](in *input, o keyOrder[R], sortOK bool) []any {
	c := in.values.Get("cursor")
	if c == "" || !sortOK {
		return nil
	}
	after, reason := o.decode(c)
	if reason != "" {
		in.fail("cursor", reason)
	}
	return after
}

// key is the cursor after row r.
func (o keyOrder[R]) key(r R) any {
	c := cursor{Sort: o.name, List: o.list}
	for _, k := range o.cols {
		c.Keys = append(c.Keys, k.value(r))
	}
	return c
}

// encode is the opaque nextCursor after row r.
func (o keyOrder[R]) encode(r R) string { return kit.EncodeCursor(o.key(r)) }

// pageOf cuts the limit+1 rows read to a page, with the cursor after it
// when there are more.
func pageOf[R any](rows []R, limit int, o keyOrder[R]) ([]R, *string) {
	return kit.Page(rows, limit, o.key)
}

// decimal is how PostgreSQL prints a numeric sort value.
var decimal = regexp.MustCompile(`^-?[0-9]{1,12}(\.[0-9]{1,4})?$`)

// decode reads a cursor of this order into the arguments its keyset
// condition binds; the reason when it cannot.
func (o keyOrder[R]) decode(s string) ([]any, string) {
	var c cursor
	if !kit.DecodeCursor(s, &c) || len(c.Keys) != len(o.cols) {
		return nil, malformedCursor
	}
	if c.Sort != o.name {
		return nil, "the cursor belongs to another sort than " + o.name + ": start again without it"
	}
	if c.List != "" && c.List != o.list {
		return nil, kit.ErrOtherList
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
		case "numeric":
			if args[i] = c.Keys[i]; !decimal.MatchString(c.Keys[i]) {
				err = fmt.Errorf("not a decimal")
			}
		default:
			args[i] = c.Keys[i]
		}
		if err != nil {
			return nil, malformedCursor
		}
	}
	return args, ""
}

// keyset is the condition "after the cursor" and the order; the cursor's
// values are bound as arguments after args. A numeric travels as text
// and is cast in SQL, so no float ever rounds it.
func (o keyOrder[R]) keyset(args, after []any) (cond, order string, _ []any) {
	dir, op := " ASC", ">"
	if o.desc {
		dir, op = " DESC", "<"
	}
	cols, params, orders := make([]string, len(o.cols)), make([]string, len(o.cols)), make([]string, len(o.cols))
	for i, k := range o.cols {
		cols[i], orders[i] = k.sql, k.sql+dir
		if after != nil {
			args = append(args, after[i])
			cast := k.cast
			if cast == "numeric" {
				cast = "text::numeric"
			}
			params[i] = fmt.Sprintf("$%d::%s", len(args), cast)
		}
	}
	if after != nil {
		cond = " AND (" + strings.Join(cols, ", ") + ") " + op + " (" + strings.Join(params, ", ") + ")"
	}
	return cond, strings.Join(orders, ", "), args
}

// cursor is the position after the last row of a page, for one sort of
// one list: the row's values of the sort's columns, its id last.
//
// List is left out of an earlier release's cursor, which named no list;
// such a cursor pages as that release paged it (unchecked), so that a
// client paging from an older instance to a newer one during a rolling
// deploy, or holding an older one's nextCursor after it, goes on rather
// than getting a 400 for a cursor passed as it was given.
type cursor struct {
	Sort string   `json:"s"`
	Keys []string `json:"k"`
	List string   `json:"l,omitempty"`
}

const malformedCursor = "malformed cursor: pass nextCursor as it was given"

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
