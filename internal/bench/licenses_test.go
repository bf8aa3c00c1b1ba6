package bench

import "testing"

// The licenses measure stops its clock on a read that shows every
// license assigned: a read without the product does not.
func TestShowsAssigned_wants_the_product_shown(t *testing.T) {
	shown := []entitledProduct{{ProductID: "visio-plan-2", AssignedLicenses: 1}, {ProductID: "office-e3", AssignedLicenses: 5}}
	if err := showsAssigned(shown, "office-e3", 5); err != nil {
		t.Fatalf("all shown: %v", err)
	}
	if err := showsAssigned(shown, "office-e3", 6); err == nil {
		t.Fatal("5 of 6 shown: no error")
	}
	if err := showsAssigned(shown[:1], "office-e3", 5); err == nil {
		t.Fatal("the product missing: no error")
	}
}
