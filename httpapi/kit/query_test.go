package kit

import "testing"

func TestQueryProblem_names_the_unparseable_parameter(t *testing.T) {
	declared := map[string]string{"email": "", "status": "", "limit": "", "cursor": "", "sort": "", "a": "", "x": ""}
	for raw, field := range map[string]string{
		"email=%zz":               "email",
		"status=all&email=a%2":    "email",
		"limit=1;x":               "limit",
		"limit=1&cursor=a;b=c":    "cursor",
		"a;b":                     "a",
		"%zz=1":                   "query",
		"sort=email&e%zzmail=%41": "query",
	} {
		p := QueryProblem(raw, declared)
		if p == nil || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("%q: %+v, want 400 naming %s", raw, p, field)
		}
	}
	for _, raw := range []string{"", "email=a%40b.example&limit=5", "a", "&&", "x=", "email=%3B"} {
		if p := QueryProblem(raw, declared); p != nil {
			t.Errorf("%q refused: %+v", raw, p.Errors)
		}
	}
}
