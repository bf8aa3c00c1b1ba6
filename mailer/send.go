package mailer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// sentMail is the outcome of one claimed email, for mail_sent.
type sentMail struct {
	key     uuid.UUID
	outcome string
	at      time.Time
	// away is why the email was not sent, when the relay could not be
	// reached (ErrRelayAway): it waits for the relay (Consumer.wait).
	away error
}

// deliver sends a claimed email and says how it went.
func (c *Consumer) deliver(ctx context.Context, p pending) sentMail {
	log := c.logger(p.env).With("mail_key", p.key)
	outcome := "sent"
	err := c.send(ctx, p)
	if errors.Is(err, ErrRelayAway) {
		return sentMail{key: p.key, away: err}
	}
	if errors.Is(err, errSuperseded) {
		// No try answered this time: the pause before the relay is
		// looked at again (putBack) stays as it was.
		outcome = "skipped: " + err.Error()
		log.Info("email not sent", "reason", outcome)
		return sentMail{key: p.key, outcome: outcome, at: time.Now()}
	}
	c.putBack.sent()
	if err != nil {
		outcome = truncate("failed: "+err.Error(), 500)
		log.Error("email not sent", "error", err)
	} else {
		log.Info("email sent")
	}
	return sentMail{key: p.key, outcome: outcome, at: time.Now()}
}

// bookkeeping is the context of what the mailer writes down about emails
// it claimed (their outcomes, a put-back): it outlives the batch's, which
// a shutdown or a lost lead ends, since a claim left unwritten is an
// email lost or sent twice; bounded, so a database away does not hold the
// mailer for good.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// record writes the outcomes of a batch's emails in one statement: each
// was a durable commit of its own, most of the mailer's work in the
// database when invitations come one by one. A crash before it leaves
// them 'pending', as a crash between a send and its record did.
func (c *Consumer) record(ctx context.Context, sent []sentMail) {
	if len(sent) == 0 {
		return
	}
	keys, outcomes, at := make([]uuid.UUID, len(sent)), make([]string, len(sent)), make([]time.Time, len(sent))
	for i, m := range sent {
		keys[i], outcomes[i], at[i] = m.key, m.outcome, m.at
	}
	rctx, cancel := bookkeeping(ctx)
	defer cancel()
	if _, err := c.Pool.Exec(rctx, `
		UPDATE mail_sent m SET outcome = o.outcome, sent_at = o.at
		  FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS o(event_id, outcome, at)
		 WHERE m.event_id = o.event_id`, keys, outcomes, at); err != nil {
		cmp.Or(c.Log, slog.Default()).Error("record mail outcomes", "consumer", Name, "emails", len(sent), "error", err)
	}
}

// send writes a claimed email and sends it, retrying.
func (c *Consumer) send(ctx context.Context, p pending) error {
	m, err := p.write()
	if err != nil {
		return err
	}
	m.From = cmp.Or(c.From, DefaultFrom)
	m.Date = c.now()
	return c.retry(ctx, p.env, func(ctx context.Context) error {
		if by := c.supersededSince(ctx, p); by != "" {
			return fmt.Errorf("%w %s", errSuperseded, by)
		}
		return withoutRecipient(c.Sender.Send(ctx, m), m.To)
	})
}

// withoutRecipient is a send's error with the recipient (the To as
// written, its address and its name) left out of its text. A relay's
// refusal names the address it refused ("550 5.1.1 <ann@example.com>:
// Recipient address rejected"), and the error is kept in mail_sent, and
// logged, where no erasure of the person reaches. The name is left out
// only as whole words: a short one ("Ann") would otherwise cut words of
// the error apart ("cannot"). errors.Is and errors.As see the error as it
// was (ErrMaybeSent).
func withoutRecipient(err error, to string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	replace := func(pattern, with string) {
		text = regexp.MustCompile(pattern).ReplaceAllString(text, with)
	}
	if strings.TrimSpace(to) != "" {
		replace(`(?i)`+regexp.QuoteMeta(to), "[recipient]")
	}
	if a, perr := mail.ParseAddress(to); perr == nil {
		replace(`(?i)`+regexp.QuoteMeta(a.Address), "[recipient]")
		if name := strings.TrimSpace(a.Name); name != "" {
			replace(`(?i)(^|[^\pL\pN])`+regexp.QuoteMeta(name)+`($|[^\pL\pN])`, "${1}[recipient]${2}")
		}
	}
	if text == err.Error() {
		return err
	}
	return recipientLeftOut{err: err, text: text}
}

// recipientLeftOut is an error whose text leaves out the recipient.
type recipientLeftOut struct {
	err  error
	text string
}

func (e recipientLeftOut) Error() string { return e.text }
func (e recipientLeftOut) Unwrap() error { return e.err }

// retry tries a send a few times with a doubling pause; not one that may
// have gone out (ErrMaybeSent), which a try more could mail twice, nor
// one refused for good (ErrPermanent): a try more would get the same
// answer, and hold up the mail after it for seconds. A try
// runs to its end (sendTimeout bounds it) when ctx ends meanwhile: the
// email is claimed, committed, and no other instance will send it, so one
// cut short because this instance lost its lead on the mailer was lost
// for good; no further try begins once ctx has ended.
func (c *Consumer) retry(ctx context.Context, env event.Envelope, send func(context.Context) error) error {
	delay := cmp.Or(c.RetryDelay, time.Second)
	attempts := cmp.Or(c.Attempts, 3)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		cut := context.AfterFunc(c.graceOver(), cancel)
		err := send(actx)
		cut()
		cancel()
		if err == nil || attempt >= attempts || ctx.Err() != nil || errors.Is(err, ErrMaybeSent) || errors.Is(err, ErrPermanent) || errors.Is(err, errSuperseded) {
			return err
		}
		c.logger(env).Warn("email send failed; retrying", "attempt", attempt, "retry_in", delay, "error", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return err
		}
		delay *= 2
	}
}

// graceOver is done StopGrace after Stopping closes (never, without
// Stopping). A try then still under way is cut: one cut before the relay
// took anything is one of a relay away (ErrRelayAway), whose email is put
// back (wait) while the pool is still open.
func (c *Consumer) graceOver() context.Context {
	c.grace.once.Do(func() {
		c.grace.over = context.Background()
		if c.Stopping == nil {
			return
		}
		over, end := context.WithCancel(context.Background())
		c.grace.over = over
		go func() {
			<-c.Stopping
			time.Sleep(cmp.Or(c.StopGrace, 5*time.Second))
			end()
		}()
	})
	return c.grace.over
}

// truncate cuts s to at most n bytes of valid UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
