package readapi

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// benefitsFrom are the benefits of partner $1 with what a Benefit shows
// besides its own row, the status decided at $2. A package and its
// benefits have the same partner (one event writes them): saying so lets
// the plan read only the partner's packages, hashed or each with its
// benefits (benefits_by_package), instead of looking a package up by id
// for every benefit (20,000 of them: 40-110 ms, 25-45 ms so).
const benefitsFrom = `(SELECT b.*, p.name AS package_name, p.purchased_at,
	    array_position(ARRAY['software', 'cloud', 'visual_studio', 'technical', 'go_to_market'], b.kind) AS kind_rank,
	    CASE WHEN p.cancelled_at IS NOT NULL THEN 'cancelled' WHEN b.expires_at <= $2::timestamptz THEN 'expired'
	         WHEN b.activated_at IS NOT NULL THEN 'active' ELSE 'inactive' END AS status,
	    b.quantity - CASE WHEN b.kind IN ('visual_studio', 'technical')
	         THEN (SELECT count(*) FROM rm_benefit_assignees a JOIN rm_partner_users u ON u.partner_id = a.partner_id AND u.user_id = a.user_id
	               WHERE a.benefit_id = b.benefit_id)::int ELSE 0 END AS remaining
	  FROM rm_benefits b JOIN rm_benefit_packages p ON p.package_id = b.package_id AND p.partner_id = b.partner_id WHERE b.partner_id = $1) b`

// listBenefits reads a page of a partner's benefits (of one package when
// q.packageID is set).
func listBenefits(ctx context.Context, pool *pgxpool.Pool, q benefitsRequest, now time.Time) (BenefitPage, error) {
	page := BenefitPage{Items: []Benefit{}, Counts: map[string]int{}}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		if err := mayReadPartner(ctx, tx, q.partnerRequest); err != nil {
			return err
		}
		var err error
		page.Items, page.NextCursor, err = benefits(ctx, tx, q, now)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT kind, count(*)::int FROM rm_benefits WHERE partner_id = $1 GROUP BY kind`, q.partnerID)
		if err != nil {
			return err
		}
		var kind string
		var n int
		_, err = pgx.ForEachRow(rows, []any{&kind, &n}, func() error { page.Counts[kind] = n; return nil })
		return err
	})
	if err != nil {
		return BenefitPage{}, readErr(err, "benefits of partner "+q.partnerID.String())
	}
	return page, nil
}

// benefits reads a page of benefits in tx, with their assignees and key
// retrievals.
func benefits(ctx context.Context, tx pgx.Tx, q benefitsRequest, now time.Time) ([]Benefit, *string, error) {
	items, next, err := queryPage(ctx, tx, q.order, `SELECT b.benefit_id::text, b.package_id::text, b.package_name, b.kind, b.name, b.product_id, b.cloud_model,
	    b.quantity, b.remaining, b.status, b.activated_at, b.expires_at, b.company_assigned_at IS NOT NULL, b.kind_rank::text, b.purchased_at
	  FROM `+benefitsFrom+`
	  WHERE ($3::text = '' OR b.kind = $3::text) AND ($4::text = '' OR b.status = $4::text) AND ($5::uuid IS NULL OR b.package_id = $5::uuid)`,
		[]any{q.partnerID, now, q.kind, q.status, q.packageID}, q.after, q.limit, func(row pgx.Row) (Benefit, error) {
			var b Benefit
			err := row.Scan(&b.BenefitID, &b.PackageID, &b.PackageName, &b.Kind, &b.Name, &b.ProductID, &b.CloudModel, &b.Quantity, &b.Remaining,
				&b.Status, &b.ActivatedAt, &b.ExpiresAt, &b.CompanyAssigned, &b.kindRank, &b.purchasedAt)
			b.ActivatedAt, b.ExpiresAt = utc(b.ActivatedAt), utc(b.ExpiresAt)
			b.Assignees, b.KeyRetrievals = []Assignee{}, []KeyRetrieval{}
			return b, err
		})
	if err != nil {
		return nil, nil, err
	}
	return items, next, benefitUsers(ctx, tx, items)
}

// benefitUsers fills in who holds each benefit and who got its key, with
// their names and sign-in emails as they are now. A user the partner
// removed holds no place any more (benefit.Package.AssignUser), and is
// neither listed nor counted against the quantity.
func benefitUsers(ctx context.Context, tx pgx.Tx, items []Benefit) error {
	ids := make([]string, len(items))
	at := map[string]int{}
	for i, b := range items {
		ids[i], at[b.BenefitID] = b.BenefitID, i
	}
	rows, err := tx.Query(ctx, `SELECT a.benefit_id::text, a.user_id::text, u.first_name || ' ' || u.last_name, u.email, a.alternate_email, a.assigned_at
	  FROM rm_benefit_assignees a JOIN rm_partner_users u ON u.partner_id = a.partner_id AND u.user_id = a.user_id
	  WHERE a.benefit_id = ANY($1::uuid[]) ORDER BY a.assigned_at, a.user_id`, ids)
	if err != nil {
		return err
	}
	var id string
	var a Assignee
	if _, err := pgx.ForEachRow(rows, []any{&id, &a.UserID, &a.Name, &a.Email, &a.AlternateEmail, &a.AssignedAt}, func() error {
		a.AssignedAt = a.AssignedAt.UTC()
		items[at[id]].Assignees = append(items[at[id]].Assignees, a)
		return nil
	}); err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT k.benefit_id::text, k.user_id::text, k.retrieved_by, u.first_name || ' ' || u.last_name, k.language, k.os, k.retrieved_at
	  FROM rm_benefit_key_retrievals k LEFT JOIN rm_partner_users u ON u.partner_id = k.partner_id AND u.user_id = k.user_id
	  WHERE k.benefit_id = ANY($1::uuid[]) ORDER BY k.retrieved_at, k.event_id`, ids)
	if err != nil {
		return err
	}
	var k KeyRetrieval
	_, err = pgx.ForEachRow(rows, []any{&id, &k.UserID, &k.By, &k.Name, &k.Language, &k.OS, &k.RetrievedAt}, func() error {
		k.RetrievedAt = k.RetrievedAt.UTC()
		items[at[id]].KeyRetrievals = append(items[at[id]].KeyRetrievals, k)
		return nil
	})
	return err
}

// packageColumns are what scanPackage reads from rm_benefit_packages p
// joined with the contact's partner user cu.
const packageColumns = `p.package_id::text, p.partner_id::text, p.name, p.price_amount::text, p.currency, p.purchased_at, p.purchased_by,
	p.cancelled_at, coalesce(p.refunded, false), p.refund_amount::text, coalesce(p.cancel_reason, ''),
	p.contact_user_id::text, cu.first_name || ' ' || cu.last_name, cu.email, coalesce(p.contact_alternate_email, ''),
	coalesce(p.contact_phone, ''), coalesce(p.contact_language, '')
	FROM rm_benefit_packages p LEFT JOIN rm_partner_users cu ON cu.partner_id = p.partner_id AND cu.user_id = p.contact_user_id`

func scanPackage(row pgx.Row) (BenefitPackage, error) {
	var p BenefitPackage
	var cancelledAt *time.Time
	var refund, contactID *string
	var refunded bool
	var reason string
	var c MarketingContact
	err := row.Scan(&p.PackageID, &p.PartnerID, &p.Name, &p.Price.Amount, &p.Price.Currency, &p.PurchasedAt, &p.PurchasedBy,
		&cancelledAt, &refunded, &refund, &reason, &contactID, &c.Name, &c.Email, &c.AlternateEmail, &c.Phone, &c.Language)
	if err != nil {
		return p, err
	}
	p.PurchasedAt = p.PurchasedAt.UTC()
	p.RefundableUntil, p.Status = p.PurchasedAt.Add(30*24*time.Hour), "active"
	if cancelledAt != nil {
		p.Status = "cancelled"
		p.Cancellation = &PackageCancel{At: cancelledAt.UTC(), Refunded: refunded, Reason: reason}
		if refund != nil {
			p.Cancellation.RefundAmount = &Price{Amount: *refund, Currency: p.Price.Currency}
		}
	}
	if contactID != nil {
		c.UserID = *contactID
		p.MarketingContact = &c
	}
	return p, nil
}

// listPackages reads a page of a partner's packages, newest first.
func listPackages(ctx context.Context, pool *pgxpool.Pool, q packagesRequest) (BenefitPackagePage, error) {
	page := BenefitPackagePage{Items: []BenefitPackage{}}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		if err := mayReadPartner(ctx, tx, q.partnerRequest); err != nil {
			return err
		}
		items, next, err := queryPage(ctx, tx, q.order, `SELECT `+packageColumns+` WHERE p.partner_id = $1`, []any{q.partnerID}, q.after, q.limit, scanPackage)
		page.Items, page.NextCursor = append(page.Items, items...), next
		return err
	})
	if err != nil {
		return BenefitPackagePage{}, readErr(err, "benefit packages of partner "+q.partnerID.String())
	}
	return page, nil
}

// packageByID reads one package with its benefits.
func packageByID(ctx context.Context, pool *pgxpool.Pool, q packagesRequest, now time.Time) (BenefitPackage, error) {
	var p BenefitPackage
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		if err := mayReadPartner(ctx, tx, q.partnerRequest); err != nil {
			return err
		}
		var err error
		p, err = scanPackage(tx.QueryRow(ctx, `SELECT `+packageColumns+` WHERE p.partner_id = $1 AND p.package_id = $2`, q.partnerID, q.packageID))
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		p.Benefits, _, err = benefits(ctx, tx, benefitsRequest{partnerRequest: q.partnerRequest, packageID: q.packageID, order: benefitOrder, limit: maxLimit}, now)
		return err
	})
	if err != nil {
		return BenefitPackage{}, readErr(err, "benefit package "+q.packageID.String())
	}
	return p, nil
}

// mayReadPartner answers errNotFound unless the viewer is a partner
// viewer of the partner.
func mayReadPartner(ctx context.Context, tx pgx.Tx, q partnerRequest) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT `+partnerViewerSQL, q.partnerID, q.viewer.email, q.viewer.operator).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return errNotFound
	}
	return nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
