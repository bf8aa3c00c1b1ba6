package service

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/projections"
)

// licensing loads and validates the product catalog (an invalid one
// stops the start): what the license commands, and a subscription's
// cancellation, need.
func (s *Service) licensing(deps commands.Deps) (commands.Licensing, error) {
	cat, err := licensing.Default()
	if err != nil {
		return commands.Licensing{}, err
	}
	lookup := licenseLookup{pool: s.pool, wait: s.readDeps().WaitProjector}
	return commands.Licensing{Catalog: cat, Lookup: lookup, Serial: deps.AccountSerial}, nil
}

// licenseRoutes declares the license command routes.
func (s *Service) licenseRoutes(deps commands.Deps, l commands.Licensing) []kit.Route {
	s.Licenses = httpapi.NewLicenseCommands(deps, l, s.cfg.Log)
	return httpapi.LicenseRoutes(s.Licenses, l.Catalog, s.cfg.Log)
}

// licenseLookup answers commands.LicenseLookup from the read models.
type licenseLookup struct {
	pool *pgxpool.Pool
	// wait waits for a projector as reads wait for ?after.
	wait func(ctx context.Context, projector string, pos eventstore.Position) error
}

func (l licenseLookup) Subscriptions(ctx context.Context, accountID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := l.pool.Query(ctx, `SELECT subscription_id FROM rm_subscriptions WHERE account_id = $1 AND cancelled_at IS NULL`, accountID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// AwaitPosition waits for the projector of rm_subscriptions.
func (l licenseLookup) AwaitPosition(ctx context.Context, pos eventstore.Position) error {
	return l.wait(ctx, projections.Partners{}.Name(), pos)
}

// ActiveUsers leaves out erased users, whom the read model still shows
// active (with their email blanked): their streams say they are erased.
func (l licenseLookup) ActiveUsers(ctx context.Context, accountID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	rows, err := l.pool.Query(ctx, `SELECT user_id, country FROM rm_users
		WHERE user_id = ANY($2) AND account_id = $1 AND status = 'active' AND email <> $3`, accountID, ids, user.Erased)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]string, len(ids))
	var id uuid.UUID
	var country string
	_, err = pgx.ForEachRow(rows, []any{&id, &country}, func() error {
		out[id] = country
		return nil
	})
	return out, err
}
