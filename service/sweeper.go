package service

import (
	"context"
	"errors"
	"fmt"
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
// finds it already recorded. It also finishes erasures that stopped half
// way, found by the key store (finishErasures).
type Sweeper struct {
	Pool   *pgxpool.Pool
	Clock  clock.Clock
	Record commands.Handler[commands.RecordInvitationExpiry, bool]
	// RecordSubscription records subscription.expired (nil: subscriptions
	// are not swept).
	RecordSubscription commands.Handler[commands.RecordSubscriptionExpiry, bool]
	// Erase finishes erasures that stopped half way (nil: not swept): an
	// erasure destroys the key, then appends user.personal_data_erased;
	// one that stopped between leaves the read models showing what the key
	// had sealed, with no event to tell them. ErasureGrace (a minute when
	// 0) lets one in progress finish first.
	Erase        commands.Handler[commands.FinishErasure, commands.PersonalDataErased]
	ErasureGrace time.Duration
	Interval     time.Duration
	Log          *slog.Logger
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
// page of each at a time, and finishes erasures that stopped half way; it
// returns how many events it appended. Each part runs even when another
// failed, and within a part a failing item does not stop the others: the
// errors are returned together.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	users, err := s.sweep(ctx, `
		SELECT user_id FROM rm_users
		 WHERE status = 'pending' AND NOT invitation_expiry_recorded AND invitation_expires_at <= $1
		 ORDER BY invitation_expires_at LIMIT 500`, now, func(id uuid.UUID) (bool, error) {
		return s.Record.Handle(ctx, commands.RecordInvitationExpiry{UserID: id})
	})
	erased, erasing := s.finishErasures(ctx)
	n, err := users+erased, errors.Join(err, erasing)
	if s.RecordSubscription == nil {
		return n, err
	}
	subs, subscribing := s.sweep(ctx, `
		SELECT subscription_id FROM rm_subscriptions
		 WHERE cancelled_at IS NULL AND NOT expiry_recorded AND expires_at <= $1
		 ORDER BY expires_at LIMIT 500`, now, func(id uuid.UUID) (bool, error) {
		return s.RecordSubscription.Handle(ctx, commands.RecordSubscriptionExpiry{SubscriptionID: id})
	})
	return n + subs, errors.Join(err, subscribing)
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
	var failed []error
	for _, id := range ids {
		appended, err := record(id)
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", id, err))
		}
		if appended {
			n++
		}
	}
	return n, errors.Join(failed...)
}

// finishErasures appends the erasure of every user whose key was erased
// over ErasureGrace ago and whose erasure is not marked recorded (the
// command marks it once its event is in the log): the command, run again
// with the operator and reason the key store recorded, appends what is
// missing and marks it. Until then the user's email is nobody's to take
// (see commands' holding), so one that fails does not stop the others,
// and a page is taken at random, not oldest first, for erasures that keep
// failing not to hide the rest. (The command marks a key with no user
// behind it: there is nothing to record; and finishes a partner's user
// in the partner's stream, which the key store names.)
func (s *Sweeper) finishErasures(ctx context.Context) (int, error) {
	if s.Erase == nil {
		return 0, nil
	}
	grace := s.ErasureGrace
	if grace == 0 {
		grace = time.Minute
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT subject_id, coalesce(erased_by, ''), coalesce(erased_reason, ''), coalesce(erasure_stream, '')
		  FROM personal_keys
		 WHERE erased_at IS NOT NULL AND NOT erasure_recorded AND erased_at <= now() - $1::interval
		 ORDER BY random()
		 LIMIT 500`, grace)
	if err != nil {
		return 0, err
	}
	found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (commands.FinishErasure, error) {
		var f commands.FinishErasure
		return f, row.Scan(&f.Subject, &f.By, &f.Reason, &f.Stream)
	})
	if err != nil {
		return 0, err
	}
	var failed []error
	n := 0
	for _, f := range found {
		res, err := s.Erase.Handle(ctx, f)
		if err != nil {
			failed = append(failed, fmt.Errorf("finish the erasure of %s: %w", f.Subject, err))
		}
		if res.Appended {
			n++
		}
	}
	return n, errors.Join(failed...)
}
