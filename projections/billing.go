package projections

import (
	_ "embed"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
)

// Billing builds the billing read model (billing.sql): billing profiles
// and their cards, invoice lines from the subscription events
// (billing_invoices.go) and the partners' benefit packages
// (billing_benefits.go). Inserts do nothing when the row exists and
// updates set values, so a replayed event changes nothing.
type Billing struct{}

//go:embed billing.sql
var billingSchema string

// Name is permanent.
func (Billing) Name() string { return "billing" }

// Version changes whenever the tables or what Apply writes change.
// 2: lines from billing.RunningFrom on are rounded as their
// subscription's running total (rm_billing_terms.exact_num).
func (Billing) Version() int { return 2 }

// Schema is the DDL of the tables.
func (Billing) Schema() string { return billingSchema }

// Tables are what readers read.
func (Billing) Tables() []string {
	return []string{"rm_billing_profiles", "rm_payment_methods", "rm_billing_terms", "rm_invoice_lines",
		"rm_benefit_packages", "rm_benefits", "rm_benefit_assignees", "rm_benefit_key_retrievals"}
}

// Apply implements Projector.
func (Billing) Apply(q *pgx.Batch, env event.Envelope) {
	switch e := env.Event.(type) {
	case billing.ProfileCreated:
		q.Queue(`INSERT INTO rm_billing_profiles (profile_id, account_id, name, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (profile_id) DO NOTHING`, e.ProfileID, e.AccountID, e.Name, env.OccurredAt, e.CreatedBy)
	case billing.PaymentMethodAdded:
		insertCard(q, env, e.ProfileID, e.AccountID, e.PaymentMethodID, e.Card)
	case billing.PaymentMethodUpdated:
		q.Queue(`UPDATE rm_payment_methods SET token = $2, expiry_month = $3, expiry_year = $4, updated_at = $5
			WHERE payment_method_id = $1`, e.PaymentMethodID, e.Card.Token, e.Card.ExpiryMonth, e.Card.ExpiryYear, env.OccurredAt)
	case billing.PaymentMethodReplaced:
		q.Queue(`DELETE FROM rm_payment_methods WHERE payment_method_id = $1`, e.ReplacedPaymentMethodID)
		insertCard(q, env, e.ProfileID, e.AccountID, e.PaymentMethodID, e.Card)
	case billing.PaymentMethodRemoved:
		q.Queue(`DELETE FROM rm_payment_methods WHERE payment_method_id = $1`, e.PaymentMethodID)
	case user.PersonalDataErased:
		eraseBenefitContact(q, e.UserID)
	case partner.UserPersonalDataErased:
		eraseBenefitContact(q, e.UserID)
	default:
		if !applyInvoice(q, env) {
			applyBenefit(q, env)
		}
	}
}

func insertCard(q *pgx.Batch, env event.Envelope, profileID, accountID, id any, c billing.Card) {
	q.Queue(`INSERT INTO rm_payment_methods (payment_method_id, profile_id, account_id, token, brand, last4, expiry_month, expiry_year, added_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
		ON CONFLICT (payment_method_id) DO NOTHING`, id, profileID, accountID, c.Token, c.Brand, c.Last4, c.ExpiryMonth, c.ExpiryYear, env.OccurredAt)
}

// eraseBenefitContact blanks a partner user's alternate emails and phone
// at once, as the partners projector blanks their names.
func eraseBenefitContact(q *pgx.Batch, id uuid.UUID) {
	q.Queue(`UPDATE rm_benefit_assignees SET alternate_email = $2 WHERE user_id = $1 AND alternate_email IS NOT NULL`, id, user.Erased)
	q.Queue(`UPDATE rm_benefit_packages SET contact_alternate_email = $2, contact_phone = $2 WHERE contact_user_id = $1`, id, user.Erased)
}
