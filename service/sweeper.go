package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/commands"
)

// Sweeper appends user.invitation_expired for invitations past their 60
// days, so the history shows the expiry. Dashboards never wait for it:
// "expired" is decided when read. It finds candidates in the read model
// and lets the command decide from the events, so any number of instances
// may sweep at once: a second append of the same expiry conflicts and
// finds it already recorded.
type Sweeper struct {
	Pool     *pgxpool.Pool
	Clock    clock.Clock
	Record   commands.Handler[commands.RecordInvitationExpiry, bool]
	Interval time.Duration
	Log      *slog.Logger
}

// Run sweeps every Interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("expiry sweep", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep records the expiries due now, a page at a time, and returns how
// many it appended.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	rows, err := s.Pool.Query(ctx, `
		SELECT user_id FROM rm_users
		 WHERE status = 'pending' AND NOT invitation_expiry_recorded AND invitation_expires_at <= $1
		 ORDER BY invitation_expires_at LIMIT 500`, s.Clock.Now())
	if err != nil {
		return 0, err
	}
	var ids []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		appended, err := s.Record.Handle(ctx, commands.RecordInvitationExpiry{UserID: id})
		if err != nil {
			return n, err
		}
		if appended {
			n++
		}
	}
	return n, nil
}
