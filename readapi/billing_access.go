package readapi

import (
	"context"
	"errors"
	"fmt"

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
func billingGet(r kit.Route) kit.Route { return roleGet(r, BillingReader) }

// mayReadBilling answers errNotFound unless the viewer sees the account,
// and 403 unless they read its billing.
func mayReadBilling(ctx context.Context, db querier, q accountRequest) error {
	return mayReadAs(ctx, db, q, billingRoles, "billing is read by Account Administrators and Account Managers")
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
