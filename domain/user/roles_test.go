package user_test

import (
	"testing"

	"github.com/bizcenter/bizcenter/domain/user"
)

// The grant matrix as documented in docs/roles.md: row = the granter's
// role, columns = the six roles in rank order.
func TestRoles_grant_matrix(t *testing.T) {
	matrix := map[user.Role]string{
		user.AccountAdministrator:   "YYYYYY",
		user.AgreementAdministrator: "-YYYYY",
		user.UserAdministrator:      "--YYYY",
		user.AccountManager:         "------",
		user.ReportsViewer:          "------",
		user.AccountViewer:          "------",
	}
	for granter, row := range matrix {
		for i, r := range user.AllRoles {
			want := row[i] == 'Y'
			if got := user.CanGrant([]user.Role{granter}, r); got != want {
				t.Errorf("%s granting %s: %v, want %v", granter, r, got, want)
			}
		}
		if got, want := user.ManagesUsers([]user.Role{granter}), row != "------"; got != want {
			t.Errorf("%s manages users: %v, want %v", granter, got, want)
		}
	}
}
