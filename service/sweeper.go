package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/commands"
)

// Sweeper appends user.invitation_expired for invitations past their 60
// days, and subscription.expired for subscriptions past their expiration
// date, so the history shows the expiry. Dashboards never wait for it:
// "expired" is decided when read. It finds candidates in the read model
// and lets the command decide from the events, so any number of instances
// may sweep at once: a second append of the same expiry conflicts and
// finds it already recorded.
type Sweeper struct {
	Pool   *pgxpool.Pool
	Clock  clock.Clock
	Record commands.Handler[commands.RecordInvitationExpiry, bool]
	// RecordSubscription records subscription.expired (nil: subscriptions
	// are not swept).
	RecordSubscription commands.Handler[commands.RecordSubscriptionExpiry, bool]
	Interval           time.Duration
	Log                *slog.Logger
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

// Sweep records the expiries due now (invitations and subscriptions), a
// page of each at a time, and returns how many it appended.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	users, err := s.sweep(ctx, `
		SELECT user_id FROM rm_users
		 WHERE status = 'pending' AND NOT invitation_expiry_recorded AND invitation_expires_at <= $1
		 ORDER BY invitation_expires_at LIMIT 500`, now, func(id uuid.UUID) (bool, error) {
		return s.Record.Handle(ctx, commands.RecordInvitationExpiry{UserID: id})
	})
	if err != nil || s.RecordSubscription == nil {
		return users, err
	}
	subs, err := s.sweep(ctx, `
		SELECT subscription_id FROM rm_subscriptions
		 WHERE cancelled_at IS NULL AND NOT expiry_recorded AND expires_at <= $1
		 ORDER BY expires_at LIMIT 500`, now, func(id uuid.UUID) (bool, error) {
		return s.RecordSubscription.Handle(ctx, commands.RecordSubscriptionExpiry{SubscriptionID: id})
	})
	return users + subs, err
}

// sweep runs record for each id the query finds due at now.
func (s *Sweeper) sweep(ctx context.Context, query string, now time.Time, record func(uuid.UUID) (bool, error)) (int, error) {
	rows, err := s.Pool.Query(ctx, query, now)
	if err != nil {
		return 0, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		appended, err := record(id)
		if err != nil {
			return n, err
		}
		if appended {
			n++
		}
	}
	return n, nil
}
