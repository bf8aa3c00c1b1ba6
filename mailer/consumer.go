package mailer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/projections"
)

// Name is the mailer's permanent name: its checkpoint key and feed topic.
// Renaming it would mail the whole history again, but for mail_sent.
const Name = "mailer"

// Consumer follows the feed and sends each email at most once: the
// invitation emails, the announcement of a partner visibility grant to
// the grantee's admins (partners.go), and the instructions of benefits
// (benefits.go, marketing.go). It records the recipients and names
// it needs, and claims each email in mail_sent in the same transaction
// that advances its checkpoint; only a committed claim is sent. A crash
// between the commit and the sends loses the emails claimed and not yet
// sent, at most about ClaimsPerCommit (their outcome stays 'pending'),
// and only the one under way once a send has taken a second (the others
// are put back: deliverWatched); none is ever sent twice.
type Consumer struct {
	Pool   *pgxpool.Pool
	Sender Sender
	// Store is read for an account's grants when a change of its channel
	// partner hands them over (grants.go).
	Store eventstore.Store
	// TokenKey is the server key invitation secrets derive from.
	TokenKey []byte
	// Clock decides whether an invitation has expired; the system clock
	// when nil.
	Clock clock.Clock
	// BaseURL is the web front end's, for the accept link and the link to
	// the orders a grant lets a partner see.
	BaseURL string
	// From is the messages' From; DefaultFrom when empty.
	From string
	Log  *slog.Logger
	// Attempts is how often a send is tried (default 3); RetryDelay is the
	// first pause between tries (default 1s), doubled after each.
	Attempts   int
	RetryDelay time.Duration
	// Stopping is closed when the process begins to stop (nil: never).
	// A send under way then has StopGrace (default 5s) left: a relay
	// that does not answer would hold it for sendTimeout, past the
	// shutdown's bound, and the pool closed under the put-back of its
	// email, which stayed claimed and was never sent.
	Stopping  <-chan struct{}
	StopGrace time.Duration

	failed  failures
	putBack putBack
	window  window
	// grace is graceOver's, made once.
	grace struct {
		once sync.Once
		over context.Context
	}
}

// sendTimeout bounds one attempt, so a stuck relay cannot hold the feed.
const sendTimeout = 30 * time.Second

// Validate reports every missing setting.
func (c *Consumer) Validate() error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("mailer: no database pool"))
	}
	if c.Sender == nil {
		errs = append(errs, errors.New("mailer: no sender"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("mailer: no event store"))
	}
	if len(c.TokenKey) == 0 {
		errs = append(errs, errors.New("mailer: no token key"))
	}
	if c.BaseURL == "" {
		errs = append(errs, errors.New("mailer: no base URL for the accept link"))
	}
	return errors.Join(errs...)
}

// ClaimsPerCommit bounds the emails one transaction claims before they
// are sent: a process that dies after a commit loses the claimed emails
// it has not sent yet (they are never sent twice), so this is how many one
// kill can cost. Catching up, a feed batch may hold hundreds of
// invitations; live it holds a few events. A commit per this many sends
// costs nothing next to the sends themselves. While sends are slow, a
// commit claims fewer (window).
const ClaimsPerCommit = 16

// Handle is the watermill handler (a message.NoPublishHandlerFunc). A
// batch is recorded in transactions with the checkpoint, each claiming at
// most ClaimsPerCommit emails (more only when one event mails several
// people); the emails a transaction claimed go out after its commit,
// before the next one begins.
func (c *Consumer) Handle(msg *message.Message) (err error) {
	ctx := msg.Context()
	b, err := projections.DecodeBatch(msg)
	if err != nil {
		return fmt.Errorf("%s: %w", Name, err)
	}
	end := projections.TraceBatch(ctx, "mail", b)
	defer func() { end(err) }()
	for done := false; !done; {
		if done, err = c.handleSome(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// handleSome records the batch's events from the checkpoint on in one
// transaction, until they claim the window's emails, then sends those.
// It reports whether it got to the end of the batch.
func (c *Consumer) handleSome(ctx context.Context, b projections.Batch) (bool, error) {
	st, err := projections.Begin(ctx, c.Pool, Name, b.Through)
	if err != nil {
		return false, err
	}
	defer st.Rollback(ctx)
	if st.From().Less(b.After) {
		// Moved back before the batch (wait, by an earlier lead of the
		// feed): the events between were not read again, and committing
		// over them left their emails waiting for the relay for good.
		// Failed, the batch makes the feed follow again from there.
		return false, fmt.Errorf("%s: %w: %s, the batch read from %s", Name, projections.ErrMovedBack, st.From(), b.After)
	}
	if st.Applied() {
		return true, nil
	}
	var outs []pending
	// The records an earlier commit of the batch took are not read again,
	// nor their people's keys fetched.
	rest := b.Records[sort.Search(len(b.Records), func(i int) bool { return st.From().Less(b.Records[i].Position) }):]
	var open event.Transform
	stale := staleInBatch(rest)
	limit := c.window.size(time.Now())
	done, fetched := true, 0
	for i, r := range rest {
		if i == fetched {
			// The keys of the next records, together: a transaction that
			// claims few emails (old invitations, expired) goes on past
			// the records it fetched for, and fetches as far ahead as a
			// full window would.
			claims := limit
			if i > 0 {
				claims = ClaimsPerCommit
			}
			ahead := keysAhead(rest[i:], claims)
			if open, err = projections.OpenerFor(ctx, st.Tx(), ahead); err != nil {
				return false, err
			}
			fetched = i + len(ahead)
		}
		if cause := c.failed.givenUp(r.ID); cause != nil {
			if err := c.giveUp(ctx, st.Tx(), r, cause); err != nil {
				return false, err
			}
			continue
		}
		env, ok, err := r.Envelope(open)
		if err != nil {
			return false, c.failed.note(r.ID, fmt.Errorf("%s: %w: %w", Name, errUndecodable, err))
		}
		if !ok {
			continue
		}
		out, err := c.apply(ctx, st.Tx(), env, stale)
		if err != nil {
			return false, c.failed.note(r.ID, fmt.Errorf("%s: %s %s@%d: %w", Name, env.Event.EventType(), env.Stream, env.Revision, err))
		}
		if outs = append(outs, out...); len(outs) >= limit && i < len(rest)-1 {
			st.Stop(r.Position)
			done = false
			break
		}
	}
	if err := st.Commit(ctx); err != nil {
		return false, err
	}
	sent, slow := make([]sentMail, 0, len(outs)), false
	var putBack error // the emails behind a slow send were put back (deliverWatched)
	for i, out := range outs {
		began := time.Now()
		var m sentMail
		m, putBack = c.deliverWatched(ctx, st, rest, sent, out, outs[i+1:])
		if m.away != nil {
			c.window.sent(time.Now(), limit, true)
			c.record(ctx, sent)
			away := outs[i:]
			if putBack != nil {
				// The emails behind were put back during the send: they
				// are no longer this instance's, and one another instance
				// claimed meanwhile (and may have mailed) must not be
				// marked waiting again.
				away = outs[i : i+1]
			}
			return false, c.wait(ctx, st, rest, away, m.away)
		}
		slow = slow || time.Since(began) >= slowSend
		if sent = append(sent, m); putBack != nil {
			break
		}
	}
	if len(outs) > 0 {
		c.window.sent(time.Now(), limit, slow)
	}
	c.record(ctx, sent)
	if putBack != nil {
		return false, putBack
	}
	return done, nil
}

// keysAhead is the start of rest whose people's keys handleSome fetches
// in one query: up to twice claims sealed events, about what a
// transaction claiming that many emails gets through (an invitation
// claims one). Fetching for all of rest gave every transaction of a long
// batch the keys of the whole rest of it: catching up 2,000 invitations,
// 125 transactions of up to 2,000 keys each. A transaction that gets past
// the start (its events claim few emails) fetches the next start's keys.
// It is never empty when rest is not.
func keysAhead(rest []projections.Record, claims int) []projections.Record {
	sealed := 0
	for i, r := range rest {
		if _, ok := event.Personal(r.Type); ok {
			if sealed++; sealed > 2*claims {
				return rest[:i]
			}
		}
	}
	return rest
}

// giveUp records that an event which failed every try is passed over,
// and why (see failures).
func (c *Consumer) giveUp(ctx context.Context, tx pgx.Tx, r projections.Record, cause error) error {
	cmp.Or(c.Log, slog.Default()).Error("event not recorded; its mail is not sent", "consumer", Name,
		"event_type", r.Type, "stream", r.Stream, "position", r.Pos, "event_id", r.ID, "tries", projections.MaxAttempts, "error", cause)
	_, err := claim(ctx, tx, r.ID, truncate("failed: not recorded: "+cause.Error(), 500))
	return err
}

// pending is an email claimed in mail_sent under key, to write and send
// once the claim is committed.
type pending struct {
	env event.Envelope
	key uuid.UUID
	// write renders the message, addressed; deliver adds From and Date.
	write func() (Message, error)
	// decided is when an invitation email was decided, by the
	// consumer's clock (zero for other emails): a try lateAfter or more
	// after it looks at the invitation's stream again (supersededSince).
	decided time.Time
}

// skip records that an event's email is not sent, and why. It says so
// only when it decided so: an email decided before (by another instance
// too, its claim in hand) is not skipped here.
func (c *Consumer) skip(ctx context.Context, tx pgx.Tx, env event.Envelope, why string) error {
	claimed, err := claim(ctx, tx, env.EventID, why)
	if claimed {
		c.logger(env).Info("email not sent", "reason", why)
	}
	return err
}

// decideAgain records that an email claimed in this transaction is not
// sent after all, and why.
func (c *Consumer) decideAgain(ctx context.Context, tx pgx.Tx, env event.Envelope, why string) error {
	c.logger(env).Info("email not sent", "reason", why)
	_, err := tx.Exec(ctx, `UPDATE mail_sent SET outcome = $2 WHERE event_id = $1`, env.EventID, why)
	return err
}

// claim inserts a row in mail_sent, or takes over one left waiting for
// the relay (wait); false when the email was decided before. The key is
// the event's id, or for an event that mails several people one derived
// from it per recipient (recipientKey).
func claim(ctx context.Context, tx pgx.Tx, key uuid.UUID, outcome string) (bool, error) {
	claimed, _, err := claimOver(ctx, tx, key, outcome)
	return claimed, err
}

// claimOver is claim, and also tells whether the row it took over had
// waited for the relay. An inserted row has no xmax; one updated here
// has this transaction's.
func claimOver(ctx context.Context, tx pgx.Tx, key uuid.UUID, outcome string) (claimed, waited bool, err error) {
	err = tx.QueryRow(ctx, `
		INSERT INTO mail_sent (event_id, outcome) VALUES ($1, $2)
		ON CONFLICT (event_id) DO UPDATE SET outcome = excluded.outcome, sent_at = now()
		  WHERE mail_sent.outcome = $3
		RETURNING xmax <> 0`, key, outcome, waiting).Scan(&waited)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	return err == nil, waited, err
}

func (c *Consumer) now() time.Time {
	if c.Clock == nil {
		return time.Now().UTC()
	}
	return c.Clock.Now()
}

func (c *Consumer) logger(env event.Envelope) *slog.Logger {
	return cmp.Or(c.Log, slog.Default()).With("consumer", Name, "event_type", env.Event.EventType(),
		"stream", env.Stream, "position", env.Position, "event_id", env.EventID)
}
