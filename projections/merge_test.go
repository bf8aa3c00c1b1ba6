package projections

import (
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestParseInsert_recognises_only_plain_inserts(t *testing.T) {
	for sql, want := range map[string]int{
		"INSERT INTO t (a, b) VALUES ($1, $2)":                                              2,
		"\n\tINSERT INTO t (a, b, c)\n\tVALUES ($2, $1::int)\n\tON CONFLICT (a) DO NOTHING": 2,
		"INSERT INTO t (a, b) VALUES ($1, '$1')":                                            0,
		"INSERT INTO t (a, b) VALUES ($1, (SELECT x FROM u WHERE y = $2))":                  0,
		"INSERT INTO t (a) VALUES ($1) ON CONFLICT DO UPDATE SET a = 1 -- DO NOTHING":       0,
		"INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = $2":         0,
		"INSERT INTO t (a, b) VALUES ($1, $2) RETURNING a":                                  0,
		"INSERT INTO t (a, b) SELECT $1, $2":                                                0,
		"INSERT INTO t (a, b) VALUES ($1, $3)":                                              0,
		"UPDATE t SET a = $1":                                                               0,
		"INSERT INTO t (a) VALUES ($1), ($2)":                                               0,
	} {
		s := parseInsert(sql)
		if got := 0; s != nil {
			got = s.args
			if got != want {
				t.Errorf("%q: %d arguments, want %d", sql, got, want)
			}
		} else if want != 0 {
			t.Errorf("%q is not recognised", sql)
		}
	}
}

// Inserts of one shape are merged, in order, into statements of 1, 2, 4,
// ... rows; any other statement, or another shape into the same table,
// first sends what is held.
func TestMergeInserts_keeps_order_where_it_can_matter(t *testing.T) {
	const a, b, a2 = "INSERT INTO ta (x) VALUES ($1) ON CONFLICT DO NOTHING", "INSERT INTO tb (x, y) VALUES ($1, $2)",
		"INSERT INTO ta (y) VALUES ($1)"
	q := &pgx.Batch{}
	q.Queue(a, 1)
	q.Queue(b, 1, 2)
	q.Queue(a, 2)
	q.Queue(a, 3)
	q.Queue("UPDATE ta SET x = $1", 9)
	q.Queue(a, 4)
	q.Queue(a2, 5)
	q.Queue(a, 6)
	out := &pgx.Batch{}
	planWrites(q).appendTo(out)
	var got []string
	var args [][]any
	for _, qq := range out.QueuedQueries {
		got = append(got, strings.Join(strings.Fields(qq.SQL), " "))
		args = append(args, qq.Arguments)
	}
	want := []string{
		"INSERT INTO ta (x) VALUES ($1), ($2) ON CONFLICT DO NOTHING",
		"INSERT INTO ta (x) VALUES ($1) ON CONFLICT DO NOTHING",
		"INSERT INTO tb (x, y) VALUES ($1, $2)",
		"UPDATE ta SET x = $1",
		"INSERT INTO ta (x) VALUES ($1) ON CONFLICT DO NOTHING",
		"INSERT INTO ta (y) VALUES ($1)",
		"INSERT INTO ta (x) VALUES ($1) ON CONFLICT DO NOTHING",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("statements\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(args[0], []any{1, 2}) || !slices.Equal(args[1], []any{3}) || !slices.Equal(args[2], []any{1, 2}) {
		t.Fatalf("arguments %v", args)
	}
}
