package readapi

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Every account-scoped query shares its first parameters, in this order:
// $1 account id, $2 now (the injected clock's, never SQL now()), $3 the
// viewer's normalized email, $4 whether the viewer is an operator.
func accountArgs(accountID any, now time.Time, v viewer) []any {
	return []any{accountID, now, v.email, v.operator}
}

const (
	// visibleSQL: the viewer may read account $1.
	visibleSQL = `($4::boolean OR EXISTS (SELECT 1 FROM rm_users m
	  WHERE m.account_id = $1 AND m.email_lower = $3::text AND m.status = 'active'))`

	// The status a dashboard sees, decided at query time: expired from
	// the invitation's end, or once its expiry is recorded, whatever now
	// is, as the commands decide (user.Status): on a clock behind the
	// sweeper's, a user the log says expired, whom accepting refuses, was
	// listed and counted as pending.
	pendingSQL = `(u.status = 'pending' AND NOT u.invitation_expiry_recorded AND u.invitation_expires_at > $2::timestamptz)`
	activeSQL  = `(u.status = 'active')`
	expiredSQL = `(u.status = 'pending' AND (u.invitation_expiry_recorded OR u.invitation_expires_at <= $2::timestamptz))`
	statusSQL  = `(CASE WHEN ` + activeSQL + ` THEN 'active' WHEN ` + pendingSQL + ` THEN 'pending' ELSE 'expired' END)`

	// countsSQL are the Counts of account $1 at $2, from rm_user_counts
	// (a row for a status and the hour pending invitations expire in, a
	// recorded expiry's '-infinity'): the pending of an hour that has ended
	// are expired, and of the hour now running, the expired are counted in
	// rm_users (those recorded are not in that hour).
	countsSQL = `SELECT coalesce(sum(k.n), 0)::bigint,
	    (coalesce(sum(k.n) FILTER (WHERE k.status = 'pending' AND k.expires_hour >= h.h), 0) - h.e)::bigint,
	    coalesce(sum(k.n) FILTER (WHERE k.status = 'active'), 0)::bigint,
	    (coalesce(sum(k.n) FILTER (WHERE k.status = 'pending' AND k.expires_hour < h.h), 0) + h.e)::bigint
	  FROM (SELECT date_trunc('hour', $2::timestamptz, 'UTC') AS h, (SELECT count(*) FROM rm_users u
	          WHERE u.account_id = $1 AND u.status = 'pending'
	            AND u.invitation_expires_at >= date_trunc('hour', $2::timestamptz, 'UTC')
	            AND u.invitation_expires_at <= $2::timestamptz AND NOT u.invitation_expiry_recorded) AS e) h
	  LEFT JOIN rm_user_counts k ON k.account_id = $1
	  GROUP BY h.h, h.e`

	// userColumns are what scanUser reads, from rm_users u.
	userColumns = `u.user_id, u.email, u.first_name, u.last_name, ` + statusSQL + `, u.roles,
	  u.invited_at, u.invitation_expires_at, CASE WHEN u.status = 'active' THEN u.activated_at END,
	  u.email_lower, u.name_sort,
	  coalesce((SELECT cardinality(a.domains) > 0 AND NOT split_part(u.email_lower, '@', 2) = ANY (a.domains)
	    FROM rm_accounts a WHERE a.account_id = u.account_id), false)`
)

// userRow is a User with the sort keys that are not part of it.
type userRow struct {
	User
	emailLower string
	nameSort   string
}

// scanUser reads userColumns, plus more destinations after them.
func scanUser(row pgx.Row, more ...any) (userRow, error) {
	var u userRow
	dest := append([]any{&u.UserID, &u.Email, &u.FirstName, &u.LastName, &u.Status, &u.Roles,
		&u.InvitedAt, &u.InvitationExpiresAt, &u.ActivatedAt, &u.emailLower, &u.nameSort, &u.OutsideDomains}, more...)
	if err := row.Scan(dest...); err != nil {
		return userRow{}, err
	}
	u.Roles = nonNil(u.Roles)
	u.InvitedAt, u.InvitationExpiresAt = u.InvitedAt.UTC(), u.InvitationExpiresAt.UTC()
	if u.ActivatedAt != nil {
		at := u.ActivatedAt.UTC()
		u.ActivatedAt = &at
	}
	return u, nil
}

// dest are the scan destinations of countsSQL.
func (c *Counts) dest() []any { return []any{&c.All, &c.Pending, &c.Active, &c.Expired} }

// snapshot runs fn in a read-only repeatable-read transaction, so that the
// queries of one answer (counts and items) see the same data.
func snapshot(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
