package readapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// Partner is GET /v1/partners/{partnerId}: the organization and its users.
type Partner struct {
	PartnerID    string        `json:"partnerId"`
	Name         string        `json:"name"`
	RegisteredAt time.Time     `json:"registeredAt"`
	Users        []PartnerUser `json:"users"`
}

// PartnerUser is a person who acts for a partner, with partner roles.
type PartnerUser struct {
	UserID    string   `json:"userId"`
	Email     string   `json:"email"`
	FirstName string   `json:"firstName"`
	LastName  string   `json:"lastName"`
	Roles     []string `json:"roles"`
}

// PartnerAccount is a customer account a partner serves now.
type PartnerAccount struct {
	AccountID             string    `json:"accountId"`
	Name                  string    `json:"name"`
	AgreementNumber       string    `json:"agreementNumber"`
	PurchaseAccountNumber string    `json:"purchaseAccountNumber"`
	AssociatedAt          time.Time `json:"associatedAt"`
	nameSort              string
}

// PartnerAccountPage is GET /v1/partners/{partnerId}/accounts, by name.
type PartnerAccountPage struct {
	Items      []PartnerAccount `json:"items"`
	NextCursor *string          `json:"nextCursor"`
}

// partnerViewerSQL: the viewer ($2 email, $3 operator) is a partner viewer
// of partner $1, which exists.
const partnerViewerSQL = `EXISTS (SELECT 1 FROM rm_partners p WHERE p.partner_id = $1 AND ($3::boolean OR EXISTS
	  (SELECT 1 FROM rm_partner_users pv WHERE pv.partner_id = $1 AND pv.email_lower = $2::text)))`

// partnerRequest names a partner as a viewer asks for it.
type partnerRequest struct {
	viewer    viewer
	partnerID uuid.UUID
}

func parsePartner(in *input, p kit.Principal) partnerRequest {
	return partnerRequest{viewer: viewerOf(p), partnerID: in.pathUUID("partnerId")}
}

// partnerAccountsRequest is a parsed GET /v1/partners/{partnerId}/accounts.
type partnerAccountsRequest struct {
	partnerRequest
	order keyOrder[PartnerAccount]
	after []any
	limit int
}

// partnerAccountOrder is the one order of a partner's accounts.
var partnerAccountOrder = keyOrder[PartnerAccount]{name: "name", cols: []keyOf[PartnerAccount]{
	{"lower(a.name)", "text", func(r PartnerAccount) string { return r.nameSort }},
	{"a.account_id", "uuid", func(r PartnerAccount) string { return r.AccountID }},
}}

func (d Deps) partnerRoutes() []kit.Route {
	return []kit.Route{partnerGet(kit.Route{
		Path:     "/v1/partners/{partnerId}",
		Summary:  "A partner organization and its users with their partner roles",
		Response: examplePartner,
		Handler: endpoint(d, reads{partnersProjector}, parsePartner, func(ctx context.Context, q partnerRequest) (Partner, error) {
			return partnerByID(ctx, d.Pool, q)
		}),
	}), partnerGet(kit.Route{
		Path:    "/v1/partners/{partnerId}/accounts",
		Summary: "The customer accounts the partner serves now, by name",
		Response: PartnerAccountPage{Items: []PartnerAccount{{AccountID: exampleAccount.AccountID, Name: exampleAccount.Name,
			AgreementNumber: exampleAccount.AgreementNumber, PurchaseAccountNumber: exampleAccount.PurchaseAccountNumber,
			AssociatedAt: time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC)}}},
		Query: map[string]string{"limit": "page size, 1 to 500 (default 50)", "cursor": cursorQuery},
		Handler: endpoint(d, reads{usersProjector, partnersProjector}, func(in *input, p kit.Principal) partnerAccountsRequest {
			q := partnerAccountsRequest{partnerRequest: parsePartner(in, p), limit: in.intIn("limit", defaultLimit, 1, maxLimit)}
			q.order, q.after = pageBy(in, partnerAccountOrder)
			return q
		}, func(ctx context.Context, q partnerAccountsRequest) (PartnerAccountPage, error) {
			return partnerAccounts(ctx, d.Pool, q)
		}),
	})}
}

// partnerByID reads a partner and its users by email; errNotFound unless
// the viewer is a partner viewer of it.
func partnerByID(ctx context.Context, pool *pgxpool.Pool, q partnerRequest) (Partner, error) {
	p := Partner{PartnerID: q.partnerID.String()}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT name, registered_at FROM rm_partners WHERE partner_id = $1 AND `+partnerViewerSQL,
			q.partnerID, q.viewer.email, q.viewer.operator).Scan(&p.Name, &p.RegisteredAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT user_id::text, email, first_name, last_name, roles FROM rm_partner_users
		  WHERE partner_id = $1 ORDER BY email_lower, user_id`, q.partnerID)
		if err != nil {
			return err
		}
		p.Users, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (PartnerUser, error) {
			var u PartnerUser
			err := row.Scan(&u.UserID, &u.Email, &u.FirstName, &u.LastName, &u.Roles)
			u.Roles = nonNil(u.Roles)
			return u, err
		})
		return err
	})
	if err != nil {
		return Partner{}, fmt.Errorf("partner %s: %w", q.partnerID, err)
	}
	p.RegisteredAt, p.Users = p.RegisteredAt.UTC(), nonNil(p.Users)
	return p, nil
}

// partnerAccounts reads a page of the accounts a partner serves now.
func partnerAccounts(ctx context.Context, pool *pgxpool.Pool, q partnerAccountsRequest) (PartnerAccountPage, error) {
	after, order, args := q.order.keyset([]any{q.partnerID, q.viewer.email, q.viewer.operator}, q.after)
	args = append(args, q.limit+1)
	page := PartnerAccountPage{Items: []PartnerAccount{}}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT `+partnerViewerSQL, q.partnerID, q.viewer.email, q.viewer.operator).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return errNotFound
		}
		rows, err := tx.Query(ctx, `SELECT a.account_id::text, a.name, a.agreement_number, a.purchase_account_number,
		    ap.associated_at, lower(a.name)
		  FROM rm_account_partners ap JOIN rm_accounts a ON a.account_id = ap.account_id
		  WHERE ap.partner_id = $1 AND `+partnerViewerSQL+after+` ORDER BY `+order+fmt.Sprintf(" LIMIT $%d", len(args)), args...)
		if err != nil {
			return err
		}
		accounts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (PartnerAccount, error) {
			var a PartnerAccount
			err := row.Scan(&a.AccountID, &a.Name, &a.AgreementNumber, &a.PurchaseAccountNumber, &a.AssociatedAt, &a.nameSort)
			a.AssociatedAt = a.AssociatedAt.UTC()
			return a, err
		})
		if err != nil {
			return err
		}
		if len(accounts) > q.limit {
			accounts = accounts[:q.limit]
			page.NextCursor = new(q.order.encode(accounts[q.limit-1]))
		}
		page.Items = append(page.Items, accounts...)
		return nil
	})
	if err != nil {
		return PartnerAccountPage{}, fmt.Errorf("accounts of partner %s: %w", q.partnerID, err)
	}
	return page, nil
}

var examplePartner = Partner{PartnerID: examplePartnerRef.PartnerID, Name: examplePartnerRef.Name,
	RegisteredAt: time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC),
	Users: []PartnerUser{{UserID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7f91", Email: "sam@litware.example",
		FirstName: "Sam", LastName: "Seller", Roles: []string{"sales_agent"}}}}
