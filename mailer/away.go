package mailer

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/projections"
)

// wait puts back the claimed emails of outs, the first of which the relay
// could not be reached for (cause), so that they go out once it is back:
// in one transaction their claims are marked waiting and the checkpoint
// goes back to the record before the first one's event (rest are the
// step's records, from its start). Recorded failed, they were lost to a
// relay away for a minute, every invitation of that minute with them. It
// pauses (putBack.pause), then returns an error so that the feed
// delivers the batch again; the events are then decided again, by this
// instance or one that took the lead meanwhile, and take their marked
// claims over (claimOver: an invitation resent meanwhile is mailed once,
// the newest), while emails of them already sent keep their claims.
// The checkpoint goes back also when another instance moved it on
// meanwhile (this instance lost its lead: a stop, a pause), and
// whichever instance leads, its feed following from past the emails,
// finds the checkpoint behind its next batch and follows again from
// there (projections.Batch.After). Put back only where the checkpoint
// had not moved, such emails were recorded failed, never sent; they are
// now only when the put-back itself fails (the database away).
func (c *Consumer) wait(ctx context.Context, st *projections.Step, rest []projections.Record, outs []pending, cause error) error {
	back, err := c.putBackClaims(ctx, st, rest, outs)
	log := cmp.Or(c.Log, slog.Default())
	if err != nil {
		log.Error("the relay cannot be reached, and its emails cannot be put back; they are not sent", "consumer", Name,
			"emails", len(outs), "error", err, "cause", cause)
		failed := make([]sentMail, len(outs))
		for i, p := range outs {
			failed[i] = sentMail{key: p.key, outcome: truncate("failed: "+cause.Error(), 500), at: time.Now()}
		}
		c.record(ctx, failed)
		return nil
	}
	pause := c.putBack.pause(cmp.Or(c.RetryDelay, time.Second))
	log.Warn("the relay cannot be reached; its emails wait for it", "consumer", Name, "emails", len(outs),
		"from", back.String(), "retry_in", pause, "error", cause)
	select {
	case <-ctx.Done():
	case <-time.After(pause):
	}
	return fmt.Errorf("%s: %d emails wait for the relay: %w", Name, len(outs), cause)
}

// putBackClaims marks the claims of outs waiting and moves the checkpoint
// back to the record before the first one's event, in one transaction
// (see wait), and returns where it moved it. rest are the step's records,
// from its start.
func (c *Consumer) putBackClaims(ctx context.Context, st *projections.Step, rest []projections.Record, outs []pending) (eventstore.Position, error) {
	back := st.From()
	for _, r := range rest {
		if r.Pos == outs[0].env.Position {
			break
		}
		back = r.Position
	}
	// An event's own email is marked, so that whoever decides it again
	// knows it waited (decide); a recipient's email of an event that
	// mails several (recipientKey) is claimed again by its event's
	// decision, or not at all if its recipient went meanwhile, so its
	// claim goes.
	var marked, dropped, events []uuid.UUID
	for _, p := range outs {
		events = append(events, p.env.EventID)
		if p.key == p.env.EventID {
			marked = append(marked, p.key)
		} else {
			dropped = append(dropped, p.key)
		}
	}
	wctx, cancel := bookkeeping(ctx)
	defer cancel()
	err := pgx.BeginFunc(wctx, c.Pool, func(tx pgx.Tx) error {
		if err := projections.MoveBack(wctx, tx, Name, back); err != nil {
			return err
		}
		if _, err := tx.Exec(wctx, `UPDATE mail_sent SET outcome = $2 WHERE event_id = ANY($1) AND outcome = 'pending'`,
			marked, waiting); err != nil {
			return err
		}
		// Such an event is claimed as a whole too (its row "one email a
		// recipient: N"): that claim goes with its emails', else the
		// event, decided again, would claim none of them. Those of its
		// emails that went out keep theirs.
		_, err := tx.Exec(wctx, `DELETE FROM mail_sent WHERE event_id = ANY($1) AND outcome = 'pending'
			OR event_id = ANY($2) AND outcome LIKE 'one email a recipient%'`, dropped, events)
		return err
	})
	return back, err
}

// waiting is the outcome of an email put back while the relay is away.
const waiting = "waiting for the relay"

// maxPause bounds the pause between two looks at a relay that stays away.
const maxPause = time.Minute

// putBack counts the waits for the relay in a row, without a send between
// them.
type putBack struct {
	mu    sync.Mutex
	waits int
}

// pause is how long the mailer waits before it looks at the relay again:
// from first, doubling with each wait in a row, up to maxPause. Tried
// again at once, a relay away for an hour cost a round of tries, a batch
// decided again and five lines of log every three seconds.
func (b *putBack) pause(first time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := first << min(b.waits, 16)
	b.waits++
	return min(d, maxPause)
}

// sent ends a run of waits: the relay took an email.
func (b *putBack) sent() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waits = 0
}
