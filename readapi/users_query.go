package readapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/projections"
)

// userFilter is what narrows a user list; the zero value keeps every user.
type userFilter struct {
	email  string // normalized substring of email_lower
	name   string // lower-case substring of the name, either way round
	role   string // a value of roleValues
	status string // a condition of statusFilters
	// statusName is the key of status in statusFilters ("all" when none).
	statusName string
}

// counted is the number of users the filter keeps, when counts hold it
// (a filter by status alone).
func (f userFilter) counted(c Counts) (int, bool) {
	if f.email != "" || f.name != "" || f.role != "" {
		return 0, false
	}
	switch f.statusName {
	case "all":
		return c.All, true
	case "pending":
		return c.Pending, true
	case "active":
		return c.Active, true
	case "expired":
		return c.Expired, true
	}
	return 0, false
}

// sql is the filter's condition on rm_users u, binding its values as
// arguments after args.
func (f userFilter) sql(args []any) (string, []any) {
	conds := []string{"true"}
	if f.email != "" {
		args = append(args, "%"+likeEscaper.Replace(f.email)+"%")
		conds = append(conds, fmt.Sprintf("u.email_lower LIKE $%d::text", len(args)))
	}
	if f.name != "" {
		// First name first, or family name first with or without a space
		// (Korean names: 김지우, 김 지우), as people type them.
		args = append(args, "%"+likeEscaper.Replace(f.name)+"%")
		n := len(args)
		conds = append(conds, fmt.Sprintf(`(lower(u.first_name || ' ' || u.last_name) LIKE $%d::text
		  OR lower(u.last_name || ' ' || u.first_name) LIKE $%d::text OR lower(u.last_name || u.first_name) LIKE $%d::text)`, n, n, n))
	}
	if f.role != "" {
		args = append(args, f.role)
		conds = append(conds, fmt.Sprintf("$%d::text = ANY (u.roles)", len(args)))
	}
	if f.status != "" {
		conds = append(conds, f.status)
	}
	return strings.Join(conds, " AND "), args
}

// likeEscaper makes a search term match itself in LIKE (escape is \).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// listUsers reads a page of an account's users, with the account's counts
// and the number of users matching the filter, from one snapshot.
func listUsers(ctx context.Context, pool *pgxpool.Pool, q listRequest, now time.Time) (UserPage, error) {
	access, accessArgs := q.access(now)
	where, filterArgs := q.filter.sql(accessArgs)
	after, order, args := q.order.keyset(slices.Clip(filterArgs), q.after)
	args = append(args, q.limit+1)
	page := UserPage{Items: []User{}}
	err := snapshot(ctx, pool, func(tx pgx.Tx) error {
		// The counts hold the total of a filter by status; any other
		// filter counts the account's users it keeps.
		total, dest := `NULL::bigint`, append(page.Counts.dest(), new(*int))
		if _, ok := q.filter.counted(Counts{}); !ok {
			total, dest[len(dest)-1] = `(SELECT count(*) FROM rm_users u WHERE u.account_id = $1 AND `+where+`)`, &page.Total
		}
		err := tx.QueryRow(ctx, `SELECT c.*, `+total+` FROM rm_accounts a, LATERAL (`+countsSQL+`) c
		  WHERE a.account_id = $1 AND `+access, filterArgs...).Scan(dest...)
		if n, ok := q.filter.counted(page.Counts); ok {
			page.Total = n
		}
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound
		}
		if err != nil {
			return fmt.Errorf("count users: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT `+userColumns+` FROM rm_users u
		  WHERE u.account_id = $1 AND `+access+` AND `+where+after+`
		  ORDER BY `+order+fmt.Sprintf(" LIMIT $%d", len(args)), args...)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (userRow, error) { return scanUser(row) })
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		if len(users) > q.limit {
			users = users[:q.limit]
			page.NextCursor = new(q.order.encode(users[q.limit-1]))
		}
		for _, u := range users {
			page.Items = append(page.Items, u.User)
		}
		return nil
	})
	if err != nil {
		return UserPage{}, fmt.Errorf("account %s: %w", q.accountID, err)
	}
	return page, nil
}

// userByID reads one user of an account the viewer may see, with the
// user's history and the invitations sent, oldest first; errNotFound
// otherwise. One statement, so no snapshot transaction is needed.
func userByID(ctx context.Context, pool *pgxpool.Pool, q userRequest, now time.Time) (UserDetail, error) {
	var d UserDetail
	var entries []projections.HistoryEntry
	row := pool.QueryRow(ctx, `SELECT `+userColumns+`, u.language, u.country, h.entries::json
	  FROM rm_users u LEFT JOIN rm_user_history h ON h.user_id = u.user_id
	  WHERE u.account_id = $1 AND u.user_id = $5::uuid AND `+visibleSQL,
		append(accountArgs(q.accountID, now, q.viewer), q.userID)...)
	u, err := scanUser(row, &d.Language, &d.Country, &entries)
	if errors.Is(err, pgx.ErrNoRows) {
		err = errNotFound
	}
	if err != nil {
		return UserDetail{}, fmt.Errorf("user %s of account %s: %w", q.userID, q.accountID, err)
	}
	d.User = u.User
	d.History, d.Invitations = historyOf(entries)
	return d, nil
}
