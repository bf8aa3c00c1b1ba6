package licensing

import (
	"strings"
	"testing"
)

func TestCatalog_Default_is_valid_and_conflicts_hold_both_ways(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if c.Version < 1 || len(c.Products) == 0 {
		t.Fatalf("catalog %d with %d products", c.Version, len(c.Products))
	}
	if !c.conflicts("office-e5", "office-e1") || !c.conflicts("office-e1", "office-e5") {
		t.Fatal("a conflict declared on one side holds on both")
	}
	if got := c.Closure("audio-conferencing"); strings.Join(got, ",") != "office-e3,teams-phone" {
		t.Fatalf("closure %v", got)
	}
}

func TestCatalog_Parse_reports_every_problem_at_once(t *testing.T) {
	_, err := Parse([]byte(`{"version": 1, "products": [
	  {"id": "a", "name": "A", "countries": ["*"], "requires": ["ghost"], "conflictsWith": ["phantom"]},
	  {"id": "a", "name": "A again", "countries": ["US"]},
	  {"id": "Bad Id", "name": "", "countries": [], "servicePlans": [{"id": "p", "name": "P"}, {"id": "p", "name": "P"}]},
	  {"id": "c", "name": "C", "countries": ["usa"], "requires": ["c"]}
	]}`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`requires names unknown product "ghost"`, `conflictsWith names unknown product "phantom"`,
		`"a": listed twice`, `"Bad Id": id must be`, `a name is required`, `countries are required`, `service plan "p" listed twice`,
		`country "usa"`, `"c": requires names itself`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestCatalog_Parse_refuses_cycles_of_requirements(t *testing.T) {
	_, err := Parse([]byte(`{"version": 2, "products": [
	  {"id": "a", "name": "A", "countries": ["*"], "requires": ["b"]},
	  {"id": "b", "name": "B", "countries": ["*"], "requires": ["c"]},
	  {"id": "c", "name": "C", "countries": ["*"], "requires": ["a"]}
	]}`))
	if err == nil || !strings.Contains(err.Error(), "requirements form a cycle: a -> b -> c -> a") {
		t.Fatalf("cycle: %v", err)
	}
}

func TestCatalog_Parse_refuses_a_product_needing_what_it_conflicts_with(t *testing.T) {
	_, err := Parse([]byte(`{"version": 1, "products": [
	  {"id": "base", "name": "Base", "countries": ["*"]},
	  {"id": "addon", "name": "Add-on", "countries": ["*"], "requires": ["mid"], "conflictsWith": ["base"]},
	  {"id": "mid", "name": "Mid", "countries": ["*"], "requires": ["base"]}
	]}`))
	if err == nil || !strings.Contains(err.Error(), `product "addon": needs "base", which conflicts with "addon"`) {
		t.Fatalf("unsatisfiable: %v", err)
	}
}

func TestCatalog_Parse_refuses_unknown_fields(t *testing.T) {
	if _, err := Parse([]byte(`{"version": 1, "products": [{"id": "a", "name": "A", "countries": ["*"], "require": ["b"]}]}`)); err == nil {
		t.Fatal("a misspelt field passed")
	}
}
