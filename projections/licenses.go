package projections

import (
	_ "embed"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/subscription"
)

// Licenses builds the licenses read model (licenses.sql): one row a user
// holding a license of a subscription. A batch of users is one statement;
// a replayed event writes the same rows again.
type Licenses struct{}

//go:embed licenses.sql
var licensesSchema string

// Name is permanent.
func (Licenses) Name() string { return "licenses" }

// Version changes whenever the tables or what Apply writes change.
func (Licenses) Version() int { return 1 }

// Schema is the DDL of the tables.
func (Licenses) Schema() string { return licensesSchema }

// Tables are what readers read.
func (Licenses) Tables() []string { return []string{"rm_license_assignments"} }

// Apply implements Projector.
func (Licenses) Apply(q *pgx.Batch, env event.Envelope) {
	switch e := env.Event.(type) {
	case subscription.LicensesAssigned:
		q.Queue(`
			INSERT INTO rm_license_assignments (subscription_id, user_id, account_id, product_id, service_plans, assigned_at, assigned_by)
			SELECT $1, u, $3, $4, $5, $6, $7 FROM unnest($2::uuid[]) AS u
			ON CONFLICT (subscription_id, user_id) DO UPDATE
			   SET service_plans = EXCLUDED.service_plans, assigned_at = EXCLUDED.assigned_at, assigned_by = EXCLUDED.assigned_by`,
			e.SubscriptionID, e.UserIDs, e.AccountID, e.ProductID, orEmptyPlans(e.ServicePlans), env.OccurredAt, e.AssignedBy)
	case subscription.LicensesUnassigned:
		q.Queue(`DELETE FROM rm_license_assignments WHERE subscription_id = $1 AND user_id = ANY($2::uuid[])`, e.SubscriptionID, e.UserIDs)
	}
}

// orEmptyPlans keeps a product without service plans NOT NULL.
func orEmptyPlans(plans []string) []string {
	if plans == nil {
		return []string{}
	}
	return plans
}
