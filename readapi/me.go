package readapi

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/idn"
)

// Me is GET /v1/me: the caller, the accounts they are an active user of,
// and the partners they act for.
type Me struct {
	Subject  string      `json:"subject"`
	Email    string      `json:"email"`
	Accounts []MyAccount `json:"accounts"`
	Partners []MyPartner `json:"partners"`
}

// MyPartner is a partner the caller is a user of, with their partner roles.
type MyPartner struct {
	PartnerID string   `json:"partnerId"`
	Name      string   `json:"name"`
	Roles     []string `json:"roles"`
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
		Summary: "The caller, the accounts they are an active user of and the partners they act for, with their roles",
		Access:  kit.SignedIn,
		Response: Me{Subject: "auth0|ada", Email: exampleUser.Email, Accounts: []MyAccount{{
			AccountID: exampleAccount.AccountID, Name: exampleAccount.Name, AgreementNumber: exampleAccount.AgreementNumber,
			PurchaseAccountNumber: exampleAccount.PurchaseAccountNumber, Roles: exampleUser.Roles,
		}}, Partners: []MyPartner{{PartnerID: examplePartner.PartnerID, Name: examplePartner.Name, Roles: []string{"sales_agent"}}}},
		Handler: endpoint(d, reads{usersProjector, partnersProjector}, func(_ *input, p kit.Principal) kit.Principal { return p },
			func(ctx context.Context, p kit.Principal) (Me, error) { return me(ctx, d.Pool, p) }),
	})
}

// me reads the accounts where the principal's email is an active user,
// and the partners it is a user of, each by name.
func me(ctx context.Context, db querier, p kit.Principal) (Me, error) {
	partners, err := myPartners(ctx, db, p)
	if err != nil {
		return Me{}, err
	}
	rows, err := db.Query(ctx, `SELECT a.account_id, a.name, a.agreement_number, a.purchase_account_number, u.roles
	  FROM rm_users u JOIN rm_accounts a ON a.account_id = u.account_id
	  WHERE u.email_lower = $1::text AND u.status = 'active'
	  ORDER BY a.name, a.account_id`, idn.FoldEmail(p.Email))
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
	return Me{Subject: p.Subject, Email: p.Email, Accounts: nonNil(accounts), Partners: partners}, nil
}

func myPartners(ctx context.Context, db querier, p kit.Principal) ([]MyPartner, error) {
	rows, err := db.Query(ctx, `SELECT p.partner_id::text, p.name, u.roles
	  FROM rm_partner_users u JOIN rm_partners p ON p.partner_id = u.partner_id
	  WHERE u.email_lower = $1::text
	  ORDER BY p.name, p.partner_id`, idn.FoldEmail(p.Email))
	if err != nil {
		return nil, fmt.Errorf("read partners of %s: %w", p.Subject, err)
	}
	partners, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (MyPartner, error) {
		var m MyPartner
		err := row.Scan(&m.PartnerID, &m.Name, &m.Roles)
		m.Roles = nonNil(m.Roles)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("read partners of %s: %w", p.Subject, err)
	}
	return nonNil(partners), nil
}
