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
// and the emails behind are sent as before if they are still this
// instance's (putBackMade). The emails of the commit sent
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
	if t.Stop() {
		return m, nil
	}
	if err := <-put; err != nil {
		made, lerr := c.putBackMade(ctx, behind[0])
		if lerr != nil {
			return m, fmt.Errorf("%s: %d emails behind a slow send are not sent: their put-back failed (%w), and whether it was made is unknown (%w)", Name, len(behind), err, lerr)
		}
		if !made {
			return m, nil
		}
	}
	return m, fmt.Errorf("%s: %w: %d emails behind a slow send were put back", Name, projections.ErrMovedBack, len(behind))
}

// putBackMade tells whether a put-back whose answer was an error was made
// after all, from the first email's row: the transaction either marked
// (or dropped) every claim, or none, and a claim still 'pending' is this
// instance's. Its COMMIT may have gone through with the answer lost (the
// connection cut), and the emails behind, sent on, were mailed twice when
// the next leader took their claims over.
func (c *Consumer) putBackMade(ctx context.Context, first pending) (bool, error) {
	rctx, cancel := bookkeeping(ctx)
	defer cancel()
	var ours bool
	err := c.Pool.QueryRow(rctx, `SELECT EXISTS (SELECT FROM mail_sent WHERE event_id = $1 AND outcome = 'pending')`, first.key).Scan(&ours)
	return !ours, err
}

// putBackBehind puts back the emails behind a send that has taken
// slowSend so far, and logs it.
func (c *Consumer) putBackBehind(ctx context.Context, st *projections.Step, rest []projections.Record, behind []pending) error {
	log := cmp.Or(c.Log, slog.Default())
	back, err := c.putBackClaims(ctx, st, rest, behind)
	if err != nil {
		log.Warn("a send is slow, and the emails behind it cannot be put back; unless it was made after all, they are sent after it", "consumer", Name,
			"emails", len(behind), "error", err)
		return err
	}
	log.Warn("a send is slow; the emails behind it are put back, to be decided again after it", "consumer", Name,
		"emails", len(behind), "from", back.String(), "slow_after", slowSend)
	return nil
}
