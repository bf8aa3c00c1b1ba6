package readapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// AccountPartner is a partner serving an account now.
type AccountPartner struct {
	PartnerID    string    `json:"partnerId"`
	Name         string    `json:"name"`
	AssociatedAt time.Time `json:"associatedAt"`
}

// AccountPartners is a page of GET /v1/accounts/{accountId}/partners,
// by name.
type AccountPartners struct {
	Items      []AccountPartner `json:"items"`
	NextCursor *string          `json:"nextCursor"`
}

// accountPartnersRequest is a parsed GET /v1/accounts/{accountId}/partners.
type accountPartnersRequest struct {
	accountRequest
	order keyOrder[AccountPartner]
	after []any
	limit int
}

// accountPartnerOrder is the one order of an account's partners.
var accountPartnerOrder = keyOrder[AccountPartner]{name: "name", cols: []keyOf[AccountPartner]{
	{"coalesce(p.name, '')", "text", func(r AccountPartner) string { return r.Name }},
	{"ap.partner_id", "uuid", func(r AccountPartner) string { return r.PartnerID }},
}}

// PartnerVisibility is GET /v1/accounts/{accountId}/partner-visibility:
// the partners serving the account, the grants, and the same as a matrix
// of every ordered pair of distinct partners. Available says whether
// grants can be given at all (two partners or more).
type PartnerVisibility struct {
	Available bool            `json:"available"`
	Partners  []PartnerRef    `json:"partners"`
	Grants    []Grant         `json:"grants"`
	Matrix    []VisibilityRow `json:"matrix"`
}

// Grant lets the grantee partner see what the source partner ordered.
type Grant struct {
	GranteePartnerID string    `json:"granteePartnerId"`
	SourcePartnerID  string    `json:"sourcePartnerId"`
	GrantedAt        time.Time `json:"grantedAt"`
	GrantedBy        string    `json:"grantedBy"`
}

// VisibilityRow is what one grantee may see, source by source.
type VisibilityRow struct {
	GranteePartnerID string           `json:"granteePartnerId"`
	GranteeName      string           `json:"granteeName"`
	Sources          []VisibilityCell `json:"sources"`
}

// VisibilityCell says whether the grantee sees one source's orders.
type VisibilityCell struct {
	SourcePartnerID string `json:"sourcePartnerId"`
	SourceName      string `json:"sourceName"`
	Granted         bool   `json:"granted"`
}

// accountPartnersSQL are the partners serving account $1, to be ordered.
const accountPartnersSQL = `SELECT ap.partner_id::text, coalesce(p.name, ''), ap.associated_at
	  FROM rm_account_partners ap LEFT JOIN rm_partners p ON p.partner_id = ap.partner_id
	  WHERE ap.account_id = $1`

func (d Deps) accountPartnerRoutes() []kit.Route {
	return []kit.Route{get(kit.Route{
		Path:     "/v1/accounts/{accountId}/partners",
		Summary:  "The partners serving an account now",
		Access:   Member,
		Response: AccountPartners{Items: []AccountPartner{{PartnerID: examplePartnerRef.PartnerID, Name: examplePartnerRef.Name, AssociatedAt: time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC)}}},
		Query:    map[string]string{"limit": "page size, 1 to 500 (default 50)", "cursor": cursorQuery},
		Handler: endpoint(d, reads{usersProjector, partnersProjector}, func(in *input, p kit.Principal) accountPartnersRequest {
			q := accountPartnersRequest{accountRequest: parseAccount(in, p), limit: in.intIn("limit", defaultLimit, 1, maxLimit)}
			q.order, q.after = pageBy(in, accountPartnerOrder)
			return q
		}, func(ctx context.Context, q accountPartnersRequest) (AccountPartners, error) {
			var out AccountPartners
			err := snapshot(ctx, d.Pool, func(tx pgx.Tx) (err error) {
				if err := mayRead(ctx, tx, q.accountRequest, d.Clock.Now()); err != nil {
					return err
				}
				out.Items, out.NextCursor, err = queryPage(ctx, tx, q.order, accountPartnersSQL, []any{q.accountID}, q.after, q.limit, scanAccountPartner)
				out.Items = nonNil(out.Items)
				return err
			})
			return out, err
		}),
	}), get(kit.Route{
		Path:     "/v1/accounts/{accountId}/partner-visibility",
		Summary:  "Which partner of an account may see what another ordered: the grants, and every pair as a matrix",
		Access:   Member,
		Response: exampleVisibility,
		Handler: endpoint(d, reads{usersProjector, partnersProjector}, parseAccount, func(ctx context.Context, q accountRequest) (PartnerVisibility, error) {
			return partnerVisibility(ctx, d.Pool, q, d.Clock.Now())
		}),
	})}
}

// mayRead answers errNotFound unless the viewer may read the account.
// visibleSQL binds accountArgs, so $2 (now) is typed here though nothing
// of this query depends on the time.
func mayRead(ctx context.Context, db querier, q accountRequest, now time.Time) error {
	err := db.QueryRow(ctx, `SELECT FROM rm_accounts a WHERE a.account_id = $1 AND $2::timestamptz IS NOT NULL AND `+visibleSQL,
		accountArgs(q.accountID, now, q.viewer)...).Scan()
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotFound
	}
	return err
}

// accountPartners are all the partners serving an account, by name.
func accountPartners(ctx context.Context, db querier, q accountRequest) ([]AccountPartner, error) {
	_, order, _ := accountPartnerOrder.keyset(nil, nil)
	rows, err := db.Query(ctx, accountPartnersSQL+` ORDER BY `+order, q.accountID)
	if err != nil {
		return nil, fmt.Errorf("partners of account %s: %w", q.accountID, err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AccountPartner, error) { return scanAccountPartner(row) })
	if err != nil {
		return nil, fmt.Errorf("partners of account %s: %w", q.accountID, err)
	}
	return nonNil(items), nil
}

// partnerVisibility reads an account's partners and grants from one
// snapshot, and lays them out as the matrix.
func partnerVisibility(ctx context.Context, pool *pgxpool.Pool, q accountRequest, now time.Time) (PartnerVisibility, error) {
	var partners []AccountPartner
	var grants []Grant
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		if err := mayRead(ctx, tx, q, now); err != nil {
			return err
		}
		var err error
		if partners, err = accountPartners(ctx, tx, q); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT grantee_partner_id::text, source_partner_id::text, granted_at, granted_by
		  FROM rm_partner_grants WHERE account_id = $1 ORDER BY granted_at, grantee_partner_id, source_partner_id`, q.accountID)
		if err != nil {
			return err
		}
		grants, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Grant, error) {
			var g Grant
			err := row.Scan(&g.GranteePartnerID, &g.SourcePartnerID, &g.GrantedAt, &g.GrantedBy)
			g.GrantedAt = g.GrantedAt.UTC()
			return g, err
		})
		return err
	})
	if err != nil {
		return PartnerVisibility{}, fmt.Errorf("partner visibility of account %s: %w", q.accountID, err)
	}
	return visibilityMatrix(partners, grants), nil
}

// visibilityMatrix lays partners and grants out for the answer.
func visibilityMatrix(partners []AccountPartner, grants []Grant) PartnerVisibility {
	v := PartnerVisibility{Available: len(partners) >= 2, Partners: []PartnerRef{}, Grants: nonNil(grants), Matrix: []VisibilityRow{}}
	granted := map[[2]string]bool{}
	for _, g := range grants {
		granted[[2]string{g.GranteePartnerID, g.SourcePartnerID}] = true
	}
	for _, grantee := range partners {
		v.Partners = append(v.Partners, PartnerRef{PartnerID: grantee.PartnerID, Name: grantee.Name})
		row := VisibilityRow{GranteePartnerID: grantee.PartnerID, GranteeName: grantee.Name, Sources: []VisibilityCell{}}
		for _, source := range partners {
			if source.PartnerID != grantee.PartnerID {
				row.Sources = append(row.Sources, VisibilityCell{SourcePartnerID: source.PartnerID, SourceName: source.Name,
					Granted: granted[[2]string{grantee.PartnerID, source.PartnerID}]})
			}
		}
		v.Matrix = append(v.Matrix, row)
	}
	return v
}

var exampleVisibility = func() PartnerVisibility {
	other := AccountPartner{PartnerID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7fa1", Name: "Northwind Traders"}
	first := AccountPartner{PartnerID: examplePartnerRef.PartnerID, Name: examplePartnerRef.Name}
	return visibilityMatrix([]AccountPartner{first, other}, []Grant{{GranteePartnerID: first.PartnerID, SourcePartnerID: other.PartnerID,
		GrantedAt: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), GrantedBy: "auth0|alice"}})
}()

func scanAccountPartner(row pgx.Row) (AccountPartner, error) {
	var p AccountPartner
	err := row.Scan(&p.PartnerID, &p.Name, &p.AssociatedAt)
	p.AssociatedAt = p.AssociatedAt.UTC()
	return p, err
}
