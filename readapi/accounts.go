package readapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// Counts are an account's users by status.
type Counts struct {
	All     int `json:"all"`
	Pending int `json:"pending"`
	Active  int `json:"active"`
	Expired int `json:"expired"`
}

// Account is GET /v1/accounts/{accountId}.
type Account struct {
	AccountID             string   `json:"accountId"`
	Name                  string   `json:"name"`
	AgreementNumber       string   `json:"agreementNumber"`
	PurchaseAccountNumber string   `json:"purchaseAccountNumber"`
	Domains               []string `json:"domains"`
	UserCounts            Counts   `json:"userCounts"`
}

// accountRequest names an account as a viewer asks for it.
type accountRequest struct {
	viewer    viewer
	accountID uuid.UUID
}

func parseAccount(in *input, p kit.Principal) accountRequest {
	return accountRequest{viewer: viewerOf(p), accountID: in.pathUUID("accountId")}
}

func (d Deps) accountRoute() kit.Route {
	return get(kit.Route{
		Path:     "/v1/accounts/{accountId}",
		Summary:  "An account with its users counted by status",
		Access:   Member,
		Response: exampleAccount,
		Handler: endpoint(d, reads{usersProjector}, parseAccount, func(ctx context.Context, q accountRequest) (Account, error) {
			return accountByID(ctx, d.Pool, q.viewer, q.accountID, d.Clock.Now())
		}),
	})
}

// accountByID reads an account the viewer may see; errNotFound otherwise.
func accountByID(ctx context.Context, db querier, v viewer, id uuid.UUID, now time.Time) (Account, error) {
	a := Account{AccountID: id.String()}
	err := db.QueryRow(ctx, `SELECT a.name, a.agreement_number, a.purchase_account_number, a.domains, c.*
	  FROM rm_accounts a, LATERAL (`+countsSQL+`) c
	  WHERE a.account_id = $1 AND `+visibleSQL, accountArgs(id, now, v)...).
		Scan(append([]any{&a.Name, &a.AgreementNumber, &a.PurchaseAccountNumber, &a.Domains}, a.UserCounts.dest()...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return Account{}, errNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("read account %s: %w", id, err)
	}
	a.Domains = nonNil(a.Domains)
	return a, nil
}

var exampleAccount = Account{
	AccountID:             "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f80",
	Name:                  "Contoso Ltd",
	AgreementNumber:       "AG-1001",
	PurchaseAccountNumber: "PA-2002",
	Domains:               []string{"contoso.example"},
	UserCounts:            Counts{All: 3, Pending: 1, Active: 1, Expired: 1},
}
