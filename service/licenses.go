package service

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/httpapi"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// licenseRoutes loads and validates the product catalog (an invalid one
// stops the start) and declares the license command routes.
func (s *Service) licenseRoutes(deps commands.Deps) ([]kit.Route, error) {
	cat, err := licensing.Default()
	if err != nil {
		return nil, err
	}
	l := commands.Licensing{Catalog: cat, Lookup: licenseLookup{s.pool}, Serial: accountLocks{s.pool}}
	s.Licenses = httpapi.NewLicenseCommands(deps, l, s.cfg.Log)
	return httpapi.LicenseRoutes(s.Licenses, cat, s.cfg.Log), nil
}

// licenseLookup answers commands.LicenseLookup from the read models.
type licenseLookup struct{ pool *pgxpool.Pool }

func (l licenseLookup) Subscriptions(ctx context.Context, accountID uuid.UUID) ([]uuid.UUID, error) {
	rows, err := l.pool.Query(ctx, `SELECT subscription_id FROM rm_subscriptions WHERE account_id = $1 AND cancelled_at IS NULL`, accountID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

func (l licenseLookup) ActiveUsers(ctx context.Context, accountID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	rows, err := l.pool.Query(ctx, `SELECT user_id, country FROM rm_users WHERE user_id = ANY($2) AND account_id = $1 AND status = 'active'`, accountID, ids)
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

// accountLocks serialises an account's license commands with a PostgreSQL
// advisory lock, held by a connection of its own for the command's length,
// so that it holds in every instance on the database. A session lock: the
// command reads and appends on other connections, so no transaction needs
// to stay open just to hold it.
type accountLocks struct{ pool *pgxpool.Pool }

func (a accountLocks) Serialize(ctx context.Context, accountID uuid.UUID, f func(context.Context) error) error {
	conn, err := a.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("license lock: %w", err)
	}
	defer conn.Release()
	key := "licenses:" + accountID.String()
	// Waiting ends with ctx: pgx cancels the query.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, key); err != nil {
		// The lock may have been granted as the wait was cancelled: a
		// closed connection holds nothing.
		_ = conn.Conn().Close(context.Background())
		return fmt.Errorf("license lock: %w", err)
	}
	defer func() {
		// Without ctx: a request that ended must still unlock. A
		// connection that cannot unlock is closed, which unlocks.
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key); err != nil {
			_ = conn.Conn().Close(context.Background())
		}
	}()
	return f(ctx)
}
