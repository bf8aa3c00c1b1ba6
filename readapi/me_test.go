package readapi

import (
	"slices"
	"testing"
	"time"
)

func TestMe_lists_the_accounts_where_the_caller_is_active(t *testing.T) {
	f := newFixture(t, time.Second)
	contoso(f)
	fabrikam := f.account("Fabrikam")
	f.user(fabrikam, seedUser{email: "alice@CONTOSO.example", first: "Alice", last: "Smith", active: true,
		roles: []string{"reports_viewer", "account_viewer"}})
	pendingOnly := f.account("Adatum")
	f.user(pendingOnly, seedUser{email: "alice@contoso.example", first: "Alice", last: "Smith"})

	var got Me
	f.ok("Alice@Contoso.Example", "/v1/me", &got)
	if got.Subject != "sub-Alice@Contoso.Example" || got.Email != "Alice@Contoso.Example" || len(got.Accounts) != 2 {
		t.Fatalf("got %+v, want Contoso and Fabrikam", got)
	}
	c, fa := got.Accounts[0], got.Accounts[1]
	if c.Name != "Contoso" || c.AgreementNumber != "AG-Contoso" || c.PurchaseAccountNumber != "PA-Contoso" ||
		!slices.Equal(c.Roles, []string{"account_administrator"}) {
		t.Errorf("contoso: %+v", c)
	}
	if fa.AccountID != fabrikam.String() || !slices.Equal(fa.Roles, []string{"reports_viewer", "account_viewer"}) {
		t.Errorf("fabrikam: %+v", fa)
	}
}

func TestMe_answers_no_accounts_as_an_empty_list(t *testing.T) {
	f := newFixture(t, time.Second)
	var raw map[string]any
	f.ok("nobody@example.com", "/v1/me", &raw)
	if accounts, ok := raw["accounts"].([]any); !ok || len(accounts) != 0 {
		t.Errorf("got %v, want accounts []", raw)
	}
}
