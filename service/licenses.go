package service

import (
	"context"
	"errors"
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
	l := commands.Licensing{Catalog: cat, Lookup: licenseLookup{s.pool}, Serial: accountLocks{pool: s.pool, turns: &turns{}}}
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

// accountLocks serialises an account's license commands with a PostgreSQL
// advisory lock, held by a connection of its own for the command's length,
// so that it holds in every instance on the database. A session lock: the
// command reads and appends on other connections, so no transaction needs
// to stay open just to hold it.
//
// Within a process the account's commands first take turns in memory, so
// that at most one of them holds a connection while it waits for the lock:
// twenty at once held every free connection of the pool waiting, and the
// one holding the lock could get none to read with. Across instances a
// waiter still holds one, so the wait is bounded (lockWait) and ends in a
// 503 to retry.
type accountLocks struct {
	pool  *pgxpool.Pool
	turns *turns
}

// lockWait bounds the wait for another instance's license command of the
// same account (theirs take a fraction of a second).
const lockWait = 10 * time.Second

func (a accountLocks) Serialize(ctx context.Context, accountID uuid.UUID, f func(context.Context) error) error {
	done, err := a.turns.take(ctx, accountID)
	if err != nil {
		return fmt.Errorf("license lock: %w", err)
	}
	defer done()
	conn, err := a.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("license lock: %w", err)
	}
	defer conn.Release()
	key := "licenses:" + accountID.String()
	// Waiting ends with ctx or lockWait: pgx cancels the query.
	wait, cancel := context.WithTimeout(ctx, lockWait)
	_, err = conn.Exec(wait, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, key)
	tooLong := errors.Is(wait.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	cancel()
	if err != nil {
		// The lock may have been granted as the wait was cancelled: a
		// closed connection holds nothing.
		_ = conn.Conn().Close(context.Background())
		if tooLong {
			p := kit.NewProblem(http.StatusServiceUnavailable, "busy",
				"another change of this account's licenses is taking long; try again")
			p.RetryAfter = 1
			return p
		}
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
