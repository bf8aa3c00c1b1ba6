package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/projections"
)

// ListResult is the users list measure: through the service's HTTP API
// (over its own pool of ServicePool connections) and raw.
type ListResult struct {
	HTTP, Raw   Throughput
	ServicePool int32
}

// ListConfig sizes the users list measure.
type ListConfig struct {
	Users   int           // users in the one account
	Clients int           // concurrent callers
	Time    time.Duration // of each side
	RawPool int32         // connections of the raw side
}

// memberEmail is the active user whose token reads the list.
const memberEmail = "member@bench.example"

// ListUsers fills the users read model of one account with cfg.Users users
// by SQL, then measures GET /v1/accounts/{id}/users?status=pending (first
// page of 50) with a member's token through the service's HTTP API, and
// the very statements that request sends to PostgreSQL, replayed raw
// through pgx, each with cfg.Clients concurrent callers for cfg.Time.
func ListUsers(ctx context.Context, dbURL string, cfg ListConfig) (ListResult, error) {
	var r ListResult
	n, err := startNode(ctx, dbURL, "")
	if err != nil {
		return r, err
	}
	defer n.Close()
	r.ServicePool = n.svc.Pool().Config().MaxConns
	account, err := fillUsers(ctx, n.svc.Pool(), cfg.Users)
	if err != nil {
		return r, err
	}
	if n.bearer, err = auth.Mint(secret, "member", memberEmail, false, time.Hour, time.Now()); err != nil {
		return r, err
	}
	path := "/v1/accounts/" + account.String() + "/users?status=pending"
	stmts, err := captureList(ctx, dbURL, path, account, cfg.Users)
	if err != nil {
		return r, err
	}

	fmt.Fprintf(os.Stderr, "GET %s over HTTP, %d clients, %v...\n", path, cfg.Clients, cfg.Time)
	mark := markCPU()
	r.HTTP, err = closedLoop(cfg.Clients, cfg.Time, func(int, int) error {
		status, err := n.get(path)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("GET %s: %d", path, status)
		}
		return err
	})
	mark.report("list over HTTP")
	if err != nil {
		return r, err
	}

	fmt.Fprintf(os.Stderr, "the same %d statements raw, pool of %d, %d clients, %v...\n", len(stmts), cfg.RawPool, cfg.Clients, cfg.Time)
	p, err := Pool(ctx, dbURL, cfg.RawPool)
	if err != nil {
		return r, err
	}
	defer p.Close()
	mark = markCPU()
	r.Raw, err = closedLoop(cfg.Clients, cfg.Time, func(int, int) error { return replay(ctx, p, stmts) })
	mark.report("list raw")
	reportSpent(stmts, r.Raw.Latency.N)
	return r, err
}

// fillUsers writes an account and n users into the tables behind the
// users read model's public views (the projector's active build): the
// member (active) and n-1 users, a quarter active, a quarter pending and
// expired, half pending. It then vacuums and analyzes them, as autovacuum
// would in time.
func fillUsers(ctx context.Context, p *pgxpool.Pool, n int) (uuid.UUID, error) {
	fmt.Fprintf(os.Stderr, "filling the users read model with %d users of one account...\n", n)
	build, err := projections.ActiveBuild(ctx, p, projections.Users{}.Name())
	if err != nil {
		return uuid.Nil, err
	}
	accounts := pgx.Identifier{build.Schema, "rm_accounts"}.Sanitize()
	users := pgx.Identifier{build.Schema, "rm_users"}.Sanitize()
	account := uuid.New()
	if _, err := p.Exec(ctx, `INSERT INTO `+accounts+` (account_id, name, agreement_number, purchase_account_number, registered_at)
		VALUES ($1, 'Bench', 'B-1', 'P-1', now())`, account); err != nil {
		return uuid.Nil, err
	}
	if _, err := p.Exec(ctx, `INSERT INTO `+users+` (user_id, account_id, email, email_lower, first_name, last_name, name_sort,
		       language, country, roles, status, invited_at, invitation_expires_at, activated_at)
		SELECT gen_random_uuid(), $1, u.email, u.email, 'First', 'Last ' || i, 'first last ' || i,
		       'en', 'US', '{account_viewer}', u.status, now() - interval '1 day',
		       now() + CASE WHEN i % 4 = 1 THEN interval '-1 hour' ELSE interval '59 days' END,
		       CASE WHEN u.status = 'active' THEN now() END
		  FROM generate_series(0, $2::int - 1) i,
		       LATERAL (SELECT CASE WHEN i = 0 THEN $3 ELSE format('user%s@bench.example', lpad(i::text, 7, '0')) END AS email,
		                       CASE WHEN i % 4 = 0 THEN 'active' ELSE 'pending' END AS status) u`,
		account, n, memberEmail); err != nil {
		return uuid.Nil, err
	}
	_, err = p.Exec(ctx, `VACUUM ANALYZE `+users+`, `+accounts)
	return account, err
}
