package mailer

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bizcenter/bizcenter/projections"
)

// deliverWatched delivers p. If that takes slowSend or longer while
// behind holds more emails of p's commit, it puts those back meanwhile
// (putBackClaims), as for a relay away: a relay that begins to hang in
// the middle of a full window then holds only the email it hangs on, and
// a kill -9 during the hang loses that one, not the up to
// ClaimsPerCommit-1 claimed behind it, whose rows stayed 'pending' for
// good. Once it has put them back, it returns with p's outcome the error
// to fail the batch with: the feed then follows again from before them,
// and whoever leads decides them again. A put-back that fails is logged,
// and the emails behind are sent as before. The emails of the commit sent
// before p (done) are recorded first: after a kill during the hang they
// read 'pending', as if lost, where they went out.
func (c *Consumer) deliverWatched(ctx context.Context, st *projections.Step, rest []projections.Record, done []sentMail, p pending, behind []pending) (sentMail, error) {
	if len(behind) == 0 {
		return c.deliver(ctx, p), nil
	}
	put := make(chan error, 1)
	t := time.AfterFunc(slowSend, func() {
		c.record(ctx, done)
		put <- c.putBackBehind(ctx, st, rest, behind)
	})
	m := c.deliver(ctx, p)
	if t.Stop() || <-put != nil {
		return m, nil
	}
	return m, fmt.Errorf("%s: %w: %d emails behind a slow send were put back", Name, projections.ErrMovedBack, len(behind))
}

// putBackBehind puts back the emails behind a send that has taken
// slowSend so far, and logs it.
func (c *Consumer) putBackBehind(ctx context.Context, st *projections.Step, rest []projections.Record, behind []pending) error {
	log := cmp.Or(c.Log, slog.Default())
	back, err := c.putBackClaims(ctx, st, rest, behind)
	if err != nil {
		log.Warn("a send is slow, and the emails behind it cannot be put back; they are sent after it", "consumer", Name,
			"emails", len(behind), "error", err)
		return err
	}
	log.Warn("a send is slow; the emails behind it are put back, to be decided again after it", "consumer", Name,
		"emails", len(behind), "from", back.String(), "slow_after", slowSend)
	return nil
}
