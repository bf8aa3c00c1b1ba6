package user

import (
	"fmt"
	"slices"
	"strconv"
)

// Role is one of the six customer roles of a purchase account.
type Role string

const (
	AccountAdministrator   Role = "account_administrator"
	AgreementAdministrator Role = "agreement_administrator"
	UserAdministrator      Role = "user_administrator"
	AccountManager         Role = "account_manager"
	ReportsViewer          Role = "reports_viewer"
	AccountViewer          Role = "account_viewer"
)

// AllRoles in order of rank, highest first.
var AllRoles = []Role{AccountAdministrator, AgreementAdministrator, UserAdministrator, AccountManager, ReportsViewer, AccountViewer}

// ParseRole reads a role's JSON value.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(AllRoles, r) {
		return "", fmt.Errorf("unknown role %q", s)
	}
	return r, nil
}

// grantable is who may hand out which role: nobody grants a role above
// their own, and only Account Administrators make other Account
// Administrators. The viewer and manager roles grant nothing.
var grantable = map[Role][]Role{
	AccountAdministrator:   AllRoles,
	AgreementAdministrator: {AgreementAdministrator, UserAdministrator, AccountManager, ReportsViewer, AccountViewer},
	UserAdministrator:      {UserAdministrator, AccountManager, ReportsViewer, AccountViewer},
}

// ManagesUsers reports whether any of the roles may invite and manage users.
func ManagesUsers(held []Role) bool {
	for _, r := range held {
		if _, ok := grantable[r]; ok {
			return true
		}
	}
	return false
}

// CanGrant reports whether a holder of these roles may give role r.
func CanGrant(held []Role, r Role) bool {
	for _, h := range held {
		if slices.Contains(grantable[h], r) {
			return true
		}
	}
	return false
}

// normalizeRoles validates, de-duplicates and orders roles by rank.
//
// at is where the reason lies when it lies in one role, "[i]", to follow
// the field's name (roles[2]): the JSON path of the bad value.
func normalizeRoles(in []string) (roles []Role, at, reason string) {
	if len(in) == 0 {
		return nil, "", "at least one role is required"
	}
	var out []Role
	for i, s := range in {
		r, err := ParseRole(s)
		if err != nil {
			return nil, "[" + strconv.Itoa(i) + "]", err.Error()
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Role) int { return slices.Index(AllRoles, a) - slices.Index(AllRoles, b) })
	return out, "", ""
}
