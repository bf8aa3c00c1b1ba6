package licensing

import (
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
)

func TestCheckEnd_refuses_only_what_would_strand_a_product_requiring_it(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	e3, other, phone := uuid.New(), uuid.New(), uuid.New()
	holder := func(holds map[string][]uuid.UUID) User { return User{ID: uuid.New(), InAccount: true, Holds: holds} }
	for _, tc := range []struct {
		name    string
		holders []User
		refused bool
	}{
		{"no holder", nil, false},
		{"a holder of E3 alone", []User{holder(map[string][]uuid.UUID{"office-e3": {e3}})}, false},
		{"a holder of E3 keeping Teams Phone", []User{holder(map[string][]uuid.UUID{"office-e3": {e3}, "teams-phone": {phone}})}, true},
		{"a holder keeping E3 through another subscription", []User{holder(map[string][]uuid.UUID{"office-e3": {e3, other}, "teams-phone": {phone}})}, false},
	} {
		err := c.CheckEnd("office-e3", e3, tc.holders)
		if got := domain.IsRule(err, RequiredByHeld); got != tc.refused {
			t.Errorf("%s: %v, want refused %v", tc.name, err, tc.refused)
		}
	}
	if c.RequiredBy("visio-plan-2") || !c.RequiredBy("office-e3") || !c.RequiredBy("teams-phone") {
		t.Error("RequiredBy")
	}
}
