package projections

import (
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// planWrites rewrites a batch so that its single-row inserts of the same
// shape travel as multi-row inserts, or when there are loadRows of them
// or more and their shape allows, as a load by COPY (see writeStep): while
// catching up, hundreds of events insert rows of the same few shapes, and
// PostgreSQL spends far less on one statement of many rows than on many
// statements of one, and less again on COPY.
//
// Only plain inserts merge: INSERT INTO t (...) VALUES (...) with nothing
// after the values but ON CONFLICT ... DO NOTHING. Such inserts do not
// depend on each other unless they share a table, and read models have no
// foreign keys, and no triggers but statement triggers that act on what
// their statement wrote (rm_users'), so they may be held back and sent
// together; any other statement first sends every held insert, and an insert into a
// table held under another shape does too, so nothing is reordered that
// could see the difference.
func planWrites(q *pgx.Batch) *writes {
	out := &writes{}
	var held []*group
	byText := map[string]*group{}
	byTable := map[string]*group{}
	flush := func() {
		for _, g := range held {
			if len(g.rows) >= loadRows && g.shape.columns != nil {
				out.add(g)
			} else {
				g.queue(out.statements())
			}
		}
		held, byText, byTable = held[:0], map[string]*group{}, map[string]*group{}
	}
	for _, qq := range q.QueuedQueries {
		s := insertShapeOf(qq.SQL)
		if s == nil || len(qq.Arguments) != s.args || qq.Fn != nil {
			flush()
			stmts := out.statements()
			stmts.QueuedQueries = append(stmts.QueuedQueries, qq) // as queued, with its result handler
			continue
		}
		g := byText[qq.SQL]
		if g == nil {
			if other := byTable[s.table]; other != nil {
				flush()
			}
			g = &group{shape: s, sql: qq.SQL}
			held = append(held, g)
			byText[qq.SQL], byTable[s.table] = g, g
		}
		g.rows = append(g.rows, qq.Arguments)
	}
	flush()
	return out
}

// group is the held rows of one insert shape, in the order queued.
type group struct {
	shape *insertShape
	sql   string
	rows  [][]any
}

// maxMergedRows bounds the rows of one merged insert. Merged statements
// have 1, 2, 4, ... maxMergedRows rows, so that each shape has a handful of
// texts for pgx to prepare and cache rather than one per batch size.
const maxMergedRows = 256

// maxParams is PostgreSQL's limit of parameters in one statement.
const maxParams = 65535

// queue queues the rows as inserts of 1, 2, 4, ... rows.
func (g *group) queue(out *pgx.Batch) {
	rows := g.rows
	for len(rows) > 0 {
		n := 1
		for n*2 <= len(rows) && n*2 <= maxMergedRows && n*2*g.shape.args <= maxParams {
			n *= 2
		}
		if n == 1 {
			out.Queue(g.sql, rows[0]...)
		} else {
			args := make([]any, 0, n*g.shape.args)
			for _, r := range rows[:n] {
				args = append(args, r...)
			}
			out.Queue(g.shape.text(n), args...)
		}
		rows = rows[n:]
	}
}

// insertShape is a mergeable insert: head is everything up to VALUES,
// tuple the one row of values with its $n placeholders, tail what follows.
type insertShape struct {
	table             string
	head, tuple, tail string
	args              int
	// For COPY, when the values are the parameters in order (loadable):
	// the table and a column for each parameter; columns is nil otherwise.
	tableID pgx.Identifier
	columns []string

	mu    sync.Mutex
	texts map[int]string
}

var shapes sync.Map // SQL text -> *insertShape, or nil when not mergeable

func insertShapeOf(sql string) *insertShape {
	if s, ok := shapes.Load(sql); ok {
		return s.(*insertShape)
	}
	s := parseInsert(sql)
	shapes.Store(sql, s)
	return s
}

// parseInsert recognises a mergeable insert, or returns nil.
func parseInsert(sql string) *insertShape {
	trimmed := strings.TrimSpace(sql)
	fields := strings.Fields(trimmed)
	if len(fields) < 4 || !strings.EqualFold(fields[0], "INSERT") || !strings.EqualFold(fields[1], "INTO") {
		return nil
	}
	table := strings.SplitN(fields[2], "(", 2)[0]
	at := valuesKeyword(trimmed)
	if at < 0 {
		return nil
	}
	head, rest := trimmed[:at+len("VALUES")], strings.TrimSpace(trimmed[at+len("VALUES"):])
	end := closing(rest)
	if end < 0 || strings.Contains(head, "$") {
		return nil
	}
	tuple, tail := rest[:end+1], strings.TrimSpace(rest[end+1:])
	// Plain values only: a literal could hold a "$1" that renumbering would
	// change, a subselect reads tables whose held inserts it would pass,
	// and a comment could hide what follows.
	upper := strings.ToUpper(tuple + " " + tail)
	for _, unsafe := range []string{"'", "SELECT", "--", "/*", "NEXTVAL"} {
		if strings.Contains(upper, unsafe) {
			return nil
		}
	}
	if strings.Contains(tail, "$") || !(tail == "" || isDoNothing(tail)) {
		return nil
	}
	args, ok := placeholders(tuple)
	if !ok {
		return nil
	}
	s := &insertShape{table: table, head: head, tuple: tuple, tail: tail, args: args, texts: map[int]string{}}
	s.tableID, s.columns, _ = loadable(head, tuple, args)
	return s
}

// valuesKeyword is where the one VALUES keyword of an insert starts, or -1
// (none, or more than one).
func valuesKeyword(sql string) int {
	found := -1
	for i := strings.Index(sql, "VALUES"); i >= 0; {
		before, after := i > 0 && strings.ContainsRune(" \t\n)", rune(sql[i-1])), i+6 < len(sql) && strings.ContainsRune(" \t\n(", rune(sql[i+6]))
		if before && after {
			if found >= 0 {
				return -1
			}
			found = i
		}
		next := strings.Index(sql[i+6:], "VALUES")
		if next < 0 {
			break
		}
		i += 6 + next
	}
	return found
}

// isDoNothing: ON CONFLICT [target] DO NOTHING, and nothing else.
func isDoNothing(tail string) bool {
	f := strings.Fields(strings.ToUpper(tail))
	return len(f) >= 4 && f[0] == "ON" && f[1] == "CONFLICT" && f[len(f)-2] == "DO" && f[len(f)-1] == "NOTHING" &&
		!strings.Contains(tail, ";")
}

// closing is the index of the parenthesis closing the one s starts with,
// outside quotes; -1 when s does not start with one.
func closing(s string) int {
	if !strings.HasPrefix(s, "(") {
		return -1
	}
	depth, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// placeholders counts the distinct $n of a tuple: ok when they are
// exactly $1 to $n.
func placeholders(tuple string) (int, bool) {
	seen := map[int]bool{}
	most := 0
	for i := 0; i < len(tuple); i++ {
		if tuple[i] != '$' {
			continue
		}
		j := i + 1
		for j < len(tuple) && tuple[j] >= '0' && tuple[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(tuple[i+1 : j])
		if err != nil || n < 1 {
			return 0, false
		}
		seen[n] = true
		most = max(most, n)
		i = j - 1
	}
	return most, most > 0 && len(seen) == most
}

// text is the statement inserting n rows.
func (s *insertShape) text(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.texts[n]; ok {
		return t
	}
	var b strings.Builder
	b.WriteString(s.head)
	for r := range n {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n\t")
		b.WriteString(renumber(s.tuple, r*s.args))
	}
	if s.tail != "" {
		b.WriteString("\n\t")
		b.WriteString(s.tail)
	}
	s.texts[n] = b.String()
	return s.texts[n]
}

// renumber adds by to every $n of a tuple.
func renumber(tuple string, by int) string {
	var b strings.Builder
	for i := 0; i < len(tuple); i++ {
		if tuple[i] != '$' {
			b.WriteByte(tuple[i])
			continue
		}
		j := i + 1
		for j < len(tuple) && tuple[j] >= '0' && tuple[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(tuple[i+1 : j])
		b.WriteString("$" + strconv.Itoa(n+by))
		i = j - 1
	}
	return b.String()
}
