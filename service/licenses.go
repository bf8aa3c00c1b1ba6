package service

import (
	"context"
	"fmt"
	"net/http"
	"time"

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
	l := commands.Licensing{Catalog: cat, Lookup: licenseLookup{s.pool}, Serial: newLocks(s.locks, "licenses", "another change of this account's licenses is taking long; try again")}
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

// listWait bounds AwaitListed: the subscriptions read model is
// milliseconds behind unless its projector is stalled.
const listWait = 5 * time.Second

// AwaitListed polls rm_subscriptions for the subscription's row (a
// cancelled one has its row too), more slowly each time, up to listWait;
// then it answers a 503 to retry.
func (l licenseLookup) AwaitListed(ctx context.Context, subscriptionID uuid.UUID) error {
	bounded, cancel := context.WithTimeout(ctx, listWait)
	defer cancel()
	for delay := 2 * time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		var listed bool
		err := l.pool.QueryRow(bounded, `SELECT EXISTS (SELECT FROM rm_subscriptions WHERE subscription_id = $1)`, subscriptionID).Scan(&listed)
		switch {
		case err == nil && listed:
			return nil
		case err != nil && bounded.Err() == nil:
			return err
		}
		select {
		case <-bounded.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p := kit.NewProblem(http.StatusServiceUnavailable, "read-model-behind",
				fmt.Sprintf("subscription %s is not in the subscriptions read model yet; retry", subscriptionID))
			p.RetryAfter = 1
			return p
		case <-time.After(delay):
		}
	}
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
