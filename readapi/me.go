package readapi

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// Me is GET /v1/me: the caller and the accounts they are an active user of.
type Me struct {
	Subject  string      `json:"subject"`
	Email    string      `json:"email"`
	Accounts []MyAccount `json:"accounts"`
}

// MyAccount is an account of the caller, with the roles they hold in it.
type MyAccount struct {
	AccountID             string   `json:"accountId"`
	Name                  string   `json:"name"`
	AgreementNumber       string   `json:"agreementNumber"`
	PurchaseAccountNumber string   `json:"purchaseAccountNumber"`
	Roles                 []string `json:"roles"`
}

func (d Deps) meRoute() kit.Route {
	return get(kit.Route{
		Path:    "/v1/me",
		Summary: "The caller and the accounts they are an active user of, with their roles",
		Access:  kit.SignedIn,
		Response: Me{Subject: "auth0|ada", Email: exampleUser.Email, Accounts: []MyAccount{{
			AccountID: exampleAccount.AccountID, Name: exampleAccount.Name, AgreementNumber: exampleAccount.AgreementNumber,
			PurchaseAccountNumber: exampleAccount.PurchaseAccountNumber, Roles: exampleUser.Roles,
		}}},
		Handler: endpoint(d, func(_ *input, p kit.Principal) kit.Principal { return p },
			func(ctx context.Context, p kit.Principal) (Me, error) { return me(ctx, d.Pool, p) }),
	})
}

// me reads the accounts where the principal's email is an active user,
// by name.
func me(ctx context.Context, db querier, p kit.Principal) (Me, error) {
	rows, err := db.Query(ctx, `SELECT a.account_id, a.name, a.agreement_number, a.purchase_account_number, u.roles
	  FROM rm_users u JOIN rm_accounts a ON a.account_id = u.account_id
	  WHERE u.email_lower = $1::text AND u.status = 'active'
	  ORDER BY a.name, a.account_id`, normalizeEmail(p.Email))
	if err != nil {
		return Me{}, fmt.Errorf("read accounts of %s: %w", p.Subject, err)
	}
	accounts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (MyAccount, error) {
		var a MyAccount
		err := row.Scan(&a.AccountID, &a.Name, &a.AgreementNumber, &a.PurchaseAccountNumber, &a.Roles)
		a.Roles = nonNil(a.Roles)
		return a, err
	})
	if err != nil {
		return Me{}, fmt.Errorf("read accounts of %s: %w", p.Subject, err)
	}
	return Me{Subject: p.Subject, Email: p.Email, Accounts: nonNil(accounts)}, nil
}
