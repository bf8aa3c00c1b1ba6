package service_test

import (
	"slices"
	"testing"

	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/readapi"
)

// The read API keeps its own list of the partner roles that assign
// licenses (it may not import domain/licensing): the same list.
func TestReadAPI_partner_assigner_roles_are_licensings(t *testing.T) {
	var want []string
	for _, r := range licensing.PartnerAssigners {
		want = append(want, string(r))
	}
	if !slices.Equal(readapi.PartnerAssignerRoles, want) {
		t.Fatalf("readapi %v, licensing %v", readapi.PartnerAssignerRoles, want)
	}
}
