package readapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// billingProjector is the checkpoint name of the projector that keeps the
// billing profiles, invoice lines and benefit packages.
const billingProjector = "billing"

// BillingReader is the access of the billing routes of an account: its
// active Account Administrators and Account Managers, and operators. Other
// members get 403, anyone else 404.
const BillingReader kit.Access = "billing reader"

// billingGet completes a billing route as get does a member route.
func billingGet(r kit.Route) kit.Route {
	r.Access = BillingReader
	r = get(r)
	r.Statuses = append(memberStatuses[:len(memberStatuses):len(memberStatuses)], http.StatusForbidden)
	return r
}

// mayReadBilling answers errNotFound unless the viewer sees the account,
// and 403 unless they read its billing.
func mayReadBilling(ctx context.Context, tx pgx.Tx, q accountRequest) error {
	var member, bills bool
	err := tx.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM rm_accounts a WHERE a.account_id = $1) AND ($3::boolean OR EXISTS (SELECT 1 FROM rm_users m
		         WHERE m.account_id = $1 AND m.email_lower = $2::text AND m.status = 'active')),
		       $3::boolean OR EXISTS (SELECT 1 FROM rm_users m
		         WHERE m.account_id = $1 AND m.email_lower = $2::text AND m.status = 'active'
		           AND m.roles && ARRAY['account_administrator', 'account_manager']::text[])`,
		q.accountID, q.viewer.email, q.viewer.operator).Scan(&member, &bills)
	switch {
	case err != nil:
		return err
	case !member:
		return errNotFound
	case !bills:
		return kit.NewProblem(http.StatusForbidden, "forbidden", "billing is read by Account Administrators and Account Managers")
	}
	return nil
}

// billingRoutes are the read routes of billing profiles, invoices and
// benefit packages.
func (d Deps) billingRoutes() []kit.Route {
	routes := append(d.billingProfileRoutes(), d.invoiceRoutes()...)
	return append(routes, d.benefitRoutes()...)
}

// queryPage reads a keyset page in tx: query up to where the keyset
// condition goes, its args before the cursor's values, the rows scanned.
func queryPage[R any](ctx context.Context, tx pgx.Tx, o keyOrder[R], query string, args, after []any, limit int,
	scan func(pgx.Row) (R, error)) ([]R, *string, error) {
	cond, order, args := o.keyset(args, after)
	args = append(args, limit+1)
	rows, err := tx.Query(ctx, query+cond+" ORDER BY "+order+fmt.Sprintf(" LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, nil, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (R, error) { return scan(row) })
	if err != nil {
		return nil, nil, err
	}
	items, next := pageOf(items, limit, o)
	return items, next, nil
}

// readErr names what a failed read was of; errNotFound and the problems
// of access pass as they are.
func readErr(err error, what string) error {
	if err == nil || errors.Is(err, errNotFound) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}
