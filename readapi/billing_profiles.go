package readapi

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// BillingProfile is a billing profile of an account with the cards it
// pays with, masked: bizcenter never knows more of a card than its brand,
// last four digits and expiry.
type BillingProfile struct {
	BillingProfileID string          `json:"billingProfileId"`
	AccountID        string          `json:"accountId"`
	Name             string          `json:"name"`
	CreatedAt        time.Time       `json:"createdAt"`
	PaymentMethods   []PaymentMethod `json:"paymentMethods"`
}

// PaymentMethod is a masked card. Expired is decided at the time of the
// request: a card pays until the end of its expiry month.
type PaymentMethod struct {
	PaymentMethodID string    `json:"paymentMethodId"`
	Brand           string    `json:"brand"`
	Last4           string    `json:"last4"`
	Masked          string    `json:"masked"`
	ExpiryMonth     int       `json:"expiryMonth"`
	ExpiryYear      int       `json:"expiryYear"`
	Expired         bool      `json:"expired"`
	AddedAt         time.Time `json:"addedAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// BillingProfilePage is GET /v1/accounts/{accountId}/billing-profiles,
// oldest first.
type BillingProfilePage struct {
	Items      []BillingProfile `json:"items"`
	NextCursor *string          `json:"nextCursor"`
}

var profileOrder = keyOrder[BillingProfile]{name: "createdAt", cols: []keyOf[BillingProfile]{
	{"p.created_at", "timestamptz", func(r BillingProfile) string { return r.CreatedAt.Format(time.RFC3339Nano) }},
	{"p.profile_id", "uuid", func(r BillingProfile) string { return r.BillingProfileID }},
}}

type profilesRequest struct {
	accountRequest
	profileID *uuid.UUID // one profile, or a page of them
	order     keyOrder[BillingProfile]
	after     []any
	limit     int
}

func (d Deps) billingProfileRoutes() []kit.Route {
	read := func(ctx context.Context, q profilesRequest) (BillingProfilePage, error) {
		return billingProfiles(ctx, d.Pool, q, d.Clock.Now())
	}
	return []kit.Route{billingGet(kit.Route{
		Path:     "/v1/accounts/{accountId}/billing-profiles",
		Summary:  "The account's billing profiles with their payment methods, masked (Account Administrators, Account Managers)",
		Response: BillingProfilePage{Items: []BillingProfile{exampleProfile}},
		Query:    map[string]string{"limit": "page size, 1 to 500 (default 50)", "cursor": cursorQuery},
		Handler: endpoint(d, reads{usersProjector, billingProjector}, func(in *input, p kit.Principal) profilesRequest {
			q := profilesRequest{accountRequest: parseAccount(in, p), limit: in.intIn("limit", defaultLimit, 1, maxLimit)}
			q.order, q.after = pageBy(in, profileOrder)
			return q
		}, read),
	}), billingGet(kit.Route{
		Path:     "/v1/accounts/{accountId}/billing-profiles/{billingProfileId}",
		Summary:  "One billing profile with its payment methods, masked",
		Response: exampleProfile,
		Handler: endpoint(d, reads{usersProjector, billingProjector}, func(in *input, p kit.Principal) profilesRequest {
			id := in.pathUUID("billingProfileId")
			return profilesRequest{accountRequest: parseAccount(in, p), profileID: &id, order: profileOrder, limit: 1}
		}, func(ctx context.Context, q profilesRequest) (BillingProfile, error) {
			page, err := read(ctx, q)
			if err == nil && len(page.Items) == 0 {
				err = errNotFound
			}
			if err != nil {
				return BillingProfile{}, err
			}
			return page.Items[0], nil
		}),
	})}
}

// billingProfiles reads a page of profiles (or the one asked for) with
// their cards.
func billingProfiles(ctx context.Context, pool *pgxpool.Pool, q profilesRequest, now time.Time) (BillingProfilePage, error) {
	page := BillingProfilePage{Items: []BillingProfile{}}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		if err := mayReadBilling(ctx, tx, q.accountRequest); err != nil {
			return err
		}
		var err error
		page.Items, page.NextCursor, err = queryPage(ctx, tx, q.order, `SELECT p.profile_id::text, p.account_id::text, p.name, p.created_at
		  FROM rm_billing_profiles p WHERE p.account_id = $1 AND ($2::uuid IS NULL OR p.profile_id = $2::uuid)`,
			[]any{q.accountID, q.profileID}, q.after, q.limit, func(row pgx.Row) (BillingProfile, error) {
				var p BillingProfile
				err := row.Scan(&p.BillingProfileID, &p.AccountID, &p.Name, &p.CreatedAt)
				p.CreatedAt, p.PaymentMethods = p.CreatedAt.UTC(), []PaymentMethod{}
				return p, err
			})
		if err != nil {
			return err
		}
		return paymentMethods(ctx, tx, page.Items, now)
	})
	if err != nil {
		return BillingProfilePage{}, readErr(err, "billing profiles of account "+q.accountID.String())
	}
	return page, nil
}

// paymentMethods fills in the cards of profiles, oldest first.
func paymentMethods(ctx context.Context, tx pgx.Tx, profiles []BillingProfile, now time.Time) error {
	ids := make([]string, len(profiles))
	at := map[string]int{}
	for i, p := range profiles {
		ids[i], at[p.BillingProfileID] = p.BillingProfileID, i
	}
	rows, err := tx.Query(ctx, `SELECT profile_id::text, payment_method_id::text, brand, last4, expiry_month, expiry_year,
	    ((make_date(expiry_year, expiry_month, 1) + interval '1 month')::timestamp AT TIME ZONE 'UTC') <= $2::timestamptz, added_at, updated_at
	  FROM rm_payment_methods WHERE profile_id = ANY($1::uuid[]) ORDER BY added_at, payment_method_id`, ids, now)
	if err != nil {
		return err
	}
	var profileID string
	var m PaymentMethod
	_, err = pgx.ForEachRow(rows, []any{&profileID, &m.PaymentMethodID, &m.Brand, &m.Last4, &m.ExpiryMonth, &m.ExpiryYear, &m.Expired, &m.AddedAt, &m.UpdatedAt}, func() error {
		m.Masked, m.AddedAt, m.UpdatedAt = "•••• "+m.Last4, m.AddedAt.UTC(), m.UpdatedAt.UTC()
		p := &profiles[at[profileID]]
		p.PaymentMethods = append(p.PaymentMethods, m)
		return nil
	})
	return err
}

var exampleProfile = BillingProfile{BillingProfileID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7fb0", AccountID: exampleAccount.AccountID,
	Name: "Contoso HQ", CreatedAt: time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC),
	PaymentMethods: []PaymentMethod{{PaymentMethodID: "0190f5a2-7c1e-7d3a-9b1e-2f4c5d6e7fb1", Brand: "visa", Last4: "4242", Masked: "•••• 4242",
		ExpiryMonth: 12, ExpiryYear: 2028, AddedAt: time.Date(2026, 1, 5, 9, 31, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 1, 5, 9, 31, 0, 0, time.UTC)}}}
