package readapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// holderFrom are the holders of licenses of active subscriptions, with the
// people's names as they are now.
const holderFrom = `rm_license_assignments a
	  JOIN rm_subscriptions s ON s.subscription_id = a.subscription_id AND ` + subActiveSQL + `
	  LEFT JOIN rm_users u ON u.user_id = a.user_id`

// licenseColumns are what License.dest reads, from rm_license_assignments a.
const licenseColumns = `a.subscription_id::text, a.service_plans, a.assigned_at, a.assigned_by`

func (l *License) dest() []any {
	return []any{&l.SubscriptionID, &l.ServicePlans, &l.AssignedAt, &l.AssignedBy}
}

// holderColumns are what scanHolder reads.
const holderColumns = `a.user_id::text, coalesce(u.email, ''), coalesce(u.first_name, ''), coalesce(u.last_name, ''), ` + licenseColumns

func scanHolder(row pgx.Row, more ...any) (Holder, error) {
	var h Holder
	err := row.Scan(slices.Concat([]any{&h.UserID, &h.Email, &h.FirstName, &h.LastName}, h.License.dest(), more)...)
	return h, err
}

// entitlements reads the products of an account with their licenses and,
// for a selection, their holders among it, from one snapshot.
func entitlements(ctx context.Context, pool *pgxpool.Pool, q entitlementsRequest, now time.Time) (Entitlements, error) {
	out := Entitlements{Products: []ProductEntitlement{}}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		mayRead := func() error { return q.mayRead(ctx, tx, now) } // as the partner's user
		if q.partnerID == uuid.Nil {
			mayRead = func() error { return mayReadOrders(ctx, tx, q.accountRequest) }
		}
		if err := mayRead(); err != nil {
			return err
		}
		// The products in the database's order of product_id (its
		// collation, which Go's byte order need not follow), read from
		// the subscriptions_by_channel index alone.
		visible, args := q.visibleSubs(q.accountID)
		rows, err := tx.Query(ctx, `SELECT s.product_id FROM rm_subscriptions s WHERE `+visible+` GROUP BY s.product_id ORDER BY s.product_id`, args...)
		if err != nil {
			return fmt.Errorf("entitlements: %w", err)
		}
		products, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("entitlements: %w", err)
		}
		at := make(map[string]int, len(products))
		for i, id := range products {
			at[id] = i
			out.Products = append(out.Products, ProductEntitlement{ProductID: id, Subscriptions: []EntitledSubscription{}})
		}
		// The subscriptions in no order, sorted below: sorting all of an
		// account's rows in the database (50,000: 110-200 ms, with a
		// window for the names besides) took most of the route's time.
		visible, args = q.visibleSubs(q.accountID, now)
		rows, err = tx.Query(ctx, `SELECT s.product_id, s.product_name, s.purchased_at,
		    s.subscription_id::text, s.name, s.expires_at, s.total_licenses, s.assigned_licenses, `+subActiveSQL+`
		  FROM rm_subscriptions s WHERE `+visible, args...)
		if err != nil {
			return fmt.Errorf("entitlements: %w", err)
		}
		var sub EntitledSubscription
		var product, name string
		var purchased time.Time
		var active bool
		latest := make([]time.Time, len(products)) // the purchase each product's name is of
		_, err = pgx.ForEachRow(rows, []any{&product, &name, &purchased, &sub.SubscriptionID, &sub.Name, &sub.ExpiresAt, &sub.TotalLicenses, &sub.AssignedLicenses, &active}, func() error {
			i, ok := at[product]
			if !ok { // not in the same snapshot's products: never
				return fmt.Errorf("product %q of a subscription is not among the account's", product)
			}
			p := &out.Products[i]
			// The product's name is that of its latest purchase.
			if latest[i].IsZero() || purchased.After(latest[i]) {
				p.ProductName, latest[i] = name, purchased
			}
			if active {
				sub.AvailableLicenses = max(sub.TotalLicenses-sub.AssignedLicenses, 0)
				p.TotalLicenses += sub.TotalLicenses
				p.AssignedLicenses += sub.AssignedLicenses
				p.AvailableLicenses += sub.AvailableLicenses
				p.Subscriptions = append(p.Subscriptions, sub)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("entitlements: %w", err)
		}
		for i := range out.Products {
			p := &out.Products[i]
			// Latest expiry first, then by id: a uuid's text sorts as its bytes do.
			slices.SortFunc(p.Subscriptions, func(a, b EntitledSubscription) int {
				return cmp.Or(b.ExpiresAt.Compare(a.ExpiresAt), strings.Compare(a.SubscriptionID, b.SubscriptionID))
			})
			p.BuyMore = p.AvailableLicenses == 0
		}
		if q.selection == nil {
			return nil
		}
		return selectionHolders(ctx, tx, q, now, &out)
	})
	return out, err
}

// selectionHolders fills in the selection: who of it holds each product.
func selectionHolders(ctx context.Context, tx pgx.Tx, q entitlementsRequest, now time.Time, out *Entitlements) error {
	out.Selection = &Selection{UserIDs: make([]string, len(q.selection)), Unknown: []string{}}
	rows, err := tx.Query(ctx, `SELECT id::text, EXISTS (SELECT 1 FROM rm_users u WHERE u.user_id = id AND u.account_id = $1)
	  FROM unnest($2::uuid[]) AS id`, q.accountID, q.selection)
	if err != nil {
		return fmt.Errorf("selection: %w", err)
	}
	known, i := 0, 0
	var id string
	var member bool
	if _, err := pgx.ForEachRow(rows, []any{&id, &member}, func() error {
		out.Selection.UserIDs[i], i = id, i+1
		if member {
			known++
		} else {
			out.Selection.Unknown = append(out.Selection.Unknown, id)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("selection: %w", err)
	}
	// IN (SELECT unnest(…)), not = ANY(…): the plan then starts from the
	// selection, each user found by index, where = ANY over 5,000 ids led
	// it to read the whole table (0.2-0.7 s for the first five runs on
	// each connection, before the generic plan).
	visible, args := q.visibleSubs(q.accountID, now, q.selection)
	rows, err = tx.Query(ctx, `SELECT `+holderColumns+`, a.product_id FROM `+holderFrom+`
	  WHERE a.account_id = $1 AND a.user_id IN (SELECT unnest($3::uuid[])) AND `+visible+`
	  ORDER BY a.product_id, lower(u.email), a.user_id`, args...)
	if err != nil {
		return fmt.Errorf("selection holders: %w", err)
	}
	held := map[string][]Holder{}
	var product string
	if _, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct{}, error) {
		h, err := scanHolder(row, &product)
		held[product] = append(held[product], h)
		return struct{}{}, err
	}); err != nil {
		return fmt.Errorf("selection holders: %w", err)
	}
	for i := range out.Products {
		p := &out.Products[i]
		hs := nonNil(held[p.ProductID])
		p.Selected = &Selected{State: "some", Count: len(hs), Holders: hs}
		switch {
		case len(hs) == 0:
			p.Selected.State = "none"
		case len(hs) >= known:
			p.Selected.State = "all"
		}
	}
	return nil
}

// userLicenses reads what a user of the account holds.
func userLicenses(ctx context.Context, pool *pgxpool.Pool, q userLicensesRequest, now time.Time) (UserLicenses, error) {
	out := UserLicenses{UserID: q.userID.String(), Licenses: []UserLicense{}}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		if err := mayReadOne(ctx, tx, q.accountRequest, `SELECT FROM rm_users WHERE user_id = $2 AND account_id = $1`, q.userID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT a.product_id, s.product_name, s.name, `+licenseColumns+`
		  FROM `+holderFrom+` WHERE a.account_id = $1 AND a.user_id = $3 ORDER BY a.product_id, a.subscription_id`, q.accountID, now, q.userID)
		if err != nil {
			return fmt.Errorf("user licenses: %w", err)
		}
		out.Licenses, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (UserLicense, error) {
			var l UserLicense
			err := row.Scan(append([]any{&l.ProductID, &l.ProductName, &l.SubscriptionName}, l.License.dest()...)...)
			return l, err
		})
		return err
	})
	return out, err
}

// assignments reads a page of a subscription's holders.
func assignments(ctx context.Context, pool *pgxpool.Pool, q assignmentsRequest, now time.Time) (AssignmentPage, error) {
	page := AssignmentPage{Items: []Holder{}}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		err := mayReadOne(ctx, tx, q.accountRequest, `SELECT FROM rm_subscriptions WHERE subscription_id = $2 AND account_id = $1`, q.subscriptionID)
		if err != nil {
			return err
		}
		after, order, args := q.order.keyset([]any{q.subscriptionID}, q.cursor)
		rows, err := tx.Query(ctx, `SELECT `+holderColumns+` FROM rm_license_assignments a LEFT JOIN rm_users u ON u.user_id = a.user_id
		  WHERE a.subscription_id = $1`+after+` ORDER BY `+order+fmt.Sprintf(" LIMIT $%d", len(args)+1), append(args, q.limit+1)...)
		if err != nil {
			return fmt.Errorf("assignments: %w", err)
		}
		items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Holder, error) { return scanHolder(row) })
		page.Items, page.NextCursor = pageOf(items, q.limit, q.order)
		return err
	})
	return page, err
}

// mayReadOne answers as mayReadOrders, then errNotFound unless the row of
// one (a user, a subscription: $1 the account, $2 id) is there.
func mayReadOne(ctx context.Context, tx pgx.Tx, q accountRequest, one string, id uuid.UUID) error {
	if err := mayReadOrders(ctx, tx, q); err != nil {
		return err
	}
	err := tx.QueryRow(ctx, one, q.accountID, id).Scan()
	if errors.Is(err, pgx.ErrNoRows) {
		return errNotFound
	}
	return err
}
