package service_test

import (
	"net/http"
	"testing"
)

// A bad ?after is named with the route's other bad parameters, as every
// read route named them before queryTaken took ?after first.
func TestReadRoutes_name_a_bad_after_with_their_other_bad_parameters(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	op := h.token("op-1", "ops@bizcenter.example", true)
	for _, c := range []struct{ path, token string }{
		{"/v1/accounts/" + accountID + "/users?after=garbage&limit=0", admin},
		{"/v1/audit/streams/account-" + accountID + "?after=garbage&limit=0", op},
	} {
		code, body := h.call("GET", c.path, c.token, nil)
		if code != http.StatusBadRequest || !namesField(body, "after") || !namesField(body, "limit") {
			t.Errorf("%s: %d %v, want 400 naming after and limit", c.path, code, body)
		}
	}
}
