package projections

import (
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/event"
)

// applyBenefit applies the events of benefit packages.
func applyBenefit(q *pgx.Batch, env event.Envelope) {
	switch e := env.Event.(type) {
	case benefit.PackagePurchased:
		q.Queue(`INSERT INTO rm_benefit_packages (package_id, partner_id, name, price_amount, currency, buyer_user_id, purchased_by, purchased_at)
			VALUES ($1, $2, $3, $4::text::numeric, $5, $6, $7, $8)
			ON CONFLICT (package_id) DO NOTHING`,
			e.PackageID, e.PartnerID, e.Name, e.Price.Amount, e.Price.Currency, e.BuyerUserID, e.PurchasedBy, e.PurchasedAt)
		for i, b := range e.Benefits {
			q.Queue(`INSERT INTO rm_benefits (benefit_id, package_id, partner_id, ordinal, kind, name, product_id, cloud_model, quantity, term_days)
				VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), nullif($8, ''), $9, nullif($10, 0))
				ON CONFLICT (benefit_id) DO NOTHING`,
				b.BenefitID, e.PackageID, e.PartnerID, i, string(b.Kind), b.Name, b.ProductID, string(b.CloudModel), b.Quantity, b.TermDays)
		}
	case benefit.ProductKeyRetrieved:
		q.Queue(`INSERT INTO rm_benefit_key_retrievals (event_id, benefit_id, partner_id, user_id, retrieved_by, language, os, retrieved_at)
			VALUES ($1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), $8)
			ON CONFLICT (event_id) DO NOTHING`,
			env.EventID, e.BenefitID, e.PartnerID, e.UserID, e.RetrievedBy, e.Language, e.OS, e.RetrievedAt)
	case benefit.CompanyAssigned:
		q.Queue(`UPDATE rm_benefits SET company_assigned_at = $2 WHERE benefit_id = $1`, e.BenefitID, e.AssignedAt)
	case benefit.UserAssigned:
		q.Queue(`INSERT INTO rm_benefit_assignees (benefit_id, user_id, partner_id, alternate_email, assigned_at)
			VALUES ($1, $2, $3, nullif($4, ''), $5)
			ON CONFLICT (benefit_id, user_id) DO NOTHING`, e.BenefitID, e.UserID, e.PartnerID, e.AlternateEmail, e.AssignedAt)
	case benefit.UserReassigned:
		q.Queue(`DELETE FROM rm_benefit_assignees WHERE benefit_id = $1 AND user_id = $2`, e.BenefitID, e.FromUserID)
		q.Queue(`INSERT INTO rm_benefit_assignees (benefit_id, user_id, partner_id, alternate_email, assigned_at)
			VALUES ($1, $2, $3, nullif($4, ''), $5)
			ON CONFLICT (benefit_id, user_id) DO NOTHING`, e.BenefitID, e.UserID, e.PartnerID, e.AlternateEmail, e.ReassignedAt)
	case benefit.UserUnassigned:
		q.Queue(`DELETE FROM rm_benefit_assignees WHERE benefit_id = $1 AND user_id = $2`, e.BenefitID, e.UserID)
	case benefit.MarketingContactSet:
		q.Queue(`UPDATE rm_benefit_packages SET contact_user_id = $2, contact_alternate_email = $3, contact_phone = $4, contact_language = $5
			WHERE package_id = $1`, e.PackageID, e.UserID, e.AlternateEmail, e.Phone, e.Language)
	case benefit.Activated:
		q.Queue(`UPDATE rm_benefits SET activated_at = $2, expires_at = $3 WHERE benefit_id = $1`, e.BenefitID, e.ActivatedAt, e.ExpiresAt)
	case benefit.PackageCancelled:
		var refund *string
		if e.RefundAmount != nil {
			refund = &e.RefundAmount.Amount
		}
		q.Queue(`UPDATE rm_benefit_packages SET cancelled_at = $2, refunded = $3, refund_amount = $4::text::numeric, cancel_reason = nullif($5, '')
			WHERE package_id = $1`, e.PackageID, e.CancelledAt, e.Refund, refund, e.Reason)
	}
}
