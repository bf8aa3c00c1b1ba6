package mailer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/projections"
)

// Name is the mailer's permanent name: its checkpoint key and feed topic.
// Renaming it would mail the whole history again, but for mail_sent.
const Name = "mailer"

// Consumer follows the feed and sends each email at most once: the
// invitation emails, and the announcement of a partner visibility grant to
// the grantee's admins (partners.go). It records the recipients and names
// it needs, and claims each email in mail_sent in the same transaction
// that advances its checkpoint; only a committed claim is sent. A crash
// between the commit and the sends loses the emails claimed and not yet
// sent, at most about ClaimsPerCommit (their outcome stays 'pending');
// none is ever sent twice.
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

	failed failures
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
// costs nothing next to the sends themselves.
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
// transaction, until they claim ClaimsPerCommit emails, then sends those.
// It reports whether it got to the end of the batch.
func (c *Consumer) handleSome(ctx context.Context, b projections.Batch) (bool, error) {
	st, err := projections.Begin(ctx, c.Pool, Name, b.Through)
	if err != nil {
		return false, err
	}
	defer st.Rollback(ctx)
	if st.Applied() {
		return true, nil
	}
	var outs []pending
	// The records an earlier commit of the batch took are not read again,
	// nor their people's keys fetched.
	rest := b.Records[sort.Search(len(b.Records), func(i int) bool { return st.From().Less(b.Records[i].Position) }):]
	var open event.Transform
	done, fetched := true, 0
	for i, r := range rest {
		if i == fetched {
			// The keys of the next records, together: a transaction that
			// claims few emails (old invitations, expired) goes on past
			// the records it fetched for.
			ahead := keysAhead(rest[i:])
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
		out, err := c.apply(ctx, st.Tx(), env)
		if err != nil {
			return false, c.failed.note(r.ID, fmt.Errorf("%s: %s %s@%d: %w", Name, env.Event.EventType(), env.Stream, env.Revision, err))
		}
		if outs = append(outs, out...); len(outs) >= ClaimsPerCommit && i < len(rest)-1 {
			st.Stop(r.Position)
			done = false
			break
		}
	}
	if err := st.Commit(ctx); err != nil {
		return false, err
	}
	sent := make([]sentMail, len(outs))
	for i, out := range outs {
		sent[i] = c.deliver(ctx, out)
	}
	c.record(ctx, sent)
	return done, nil
}

// keysAhead is the start of rest whose people's keys handleSome fetches
// in one query: up to twice ClaimsPerCommit sealed events, about what one
// transaction gets through (an invitation claims one email). Fetching for
// all of rest gave every transaction of a long batch the keys of the
// whole rest of it: catching up 2,000 invitations, 125 transactions of up
// to 2,000 keys each. A transaction that gets past the start (its events
// claim few emails) fetches the next start's keys. It is never empty when
// rest is not.
func keysAhead(rest []projections.Record) []projections.Record {
	sealed := 0
	for i, r := range rest {
		if _, ok := event.Personal(r.Type); ok {
			if sealed++; sealed > 2*ClaimsPerCommit {
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

// recipient is a row of mail_recipients.
type recipient struct {
	userID, accountID                    uuid.UUID
	email, firstName, lastName, language string
}

// pending is an email claimed in mail_sent under key, to write and send
// once the claim is committed.
type pending struct {
	env event.Envelope
	key uuid.UUID
	// write renders the message, addressed; deliver adds From and Date.
	write func() (Message, error)
}

// outgoing is an invitation email as decided, before it is claimed.
type outgoing struct {
	env          event.Envelope
	to           recipient
	accountName  string
	invitationID uuid.UUID
	tokenHash    string
	expiresAt    time.Time
}

// apply records what the mailer needs of an event and claims the emails
// it asks for.
func (c *Consumer) apply(ctx context.Context, tx pgx.Tx, env event.Envelope) ([]pending, error) {
	switch e := env.Event.(type) {
	case account.Registered:
		_, err := tx.Exec(ctx, `
			INSERT INTO mail_account_names (account_id, name) VALUES ($1, $2)
			ON CONFLICT (account_id) DO UPDATE SET name = EXCLUDED.name`, e.AccountID, e.Name)
		return nil, err
	case user.PersonalDataErased:
		// The recipient is forgotten; a resend finds nobody to mail. A user
		// id names one person, so a partner user with that id goes too.
		if _, err := tx.Exec(ctx, `DELETE FROM mail_recipients WHERE user_id = $1`, e.UserID); err != nil {
			return nil, err
		}
		_, err := tx.Exec(ctx, `DELETE FROM mail_partner_users WHERE user_id = $1`, e.UserID)
		return nil, err
	case partner.UserPersonalDataErased:
		// Nobody of the partner is mailed at the erased person's address
		// again (grants are announced to the users the mailer knows).
		_, err := tx.Exec(ctx, `DELETE FROM mail_partner_users WHERE user_id = $1`, e.UserID)
		return nil, err
	case user.EmailChanged:
		// The invitation resent with it goes to the new address.
		_, err := tx.Exec(ctx, `UPDATE mail_recipients SET email = $2 WHERE user_id = $1`, e.UserID, e.Email)
		return nil, err
	case user.Invited:
		if e.Email == user.Erased {
			return nil, c.skip(ctx, tx, env, "skipped: personal data erased")
		}
		r := recipient{e.UserID, e.AccountID, e.Email, e.FirstName, e.LastName, e.Language}
		if _, err := tx.Exec(ctx, `
			INSERT INTO mail_recipients (user_id, account_id, email, first_name, last_name, language)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (user_id) DO UPDATE SET account_id = EXCLUDED.account_id, email = EXCLUDED.email,
				first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, language = EXCLUDED.language`,
			r.userID, r.accountID, r.email, r.firstName, r.lastName, r.language); err != nil {
			return nil, err
		}
		return c.decide(ctx, tx, outgoing{env: env, to: r, invitationID: e.InvitationID, tokenHash: e.TokenHash, expiresAt: e.ExpiresAt})
	case user.InvitationResent:
		// The recipient is kept until the erasure's event comes; a person
		// whose key is erased already (the erasure came after this resend,
		// or is half done) is mailed nothing: the link would answer 404,
		// and a grant is announced to no one erased either (announceGrants).
		r := recipient{userID: e.UserID}
		var erased bool
		err := tx.QueryRow(ctx, `
			SELECT account_id, email, first_name, last_name, language,
			       EXISTS (SELECT FROM personal_keys k WHERE k.subject_id = r.user_id AND k.erased_at IS NOT NULL)
			  FROM mail_recipients r WHERE user_id = $1`,
			e.UserID).Scan(&r.accountID, &r.email, &r.firstName, &r.lastName, &r.language, &erased)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, c.skip(ctx, tx, env, "skipped: unknown recipient")
		}
		if err != nil {
			return nil, err
		}
		if erased {
			return nil, c.skip(ctx, tx, env, "skipped: personal data erased")
		}
		return c.decide(ctx, tx, outgoing{env: env, to: r, invitationID: e.InvitationID, tokenHash: e.TokenHash, expiresAt: e.ExpiresAt})
	}
	return c.applyPartner(ctx, tx, env)
}

// decide claims an invitation's email unless it has expired (a replay of
// old history mails nobody) or was claimed before.
func (c *Consumer) decide(ctx context.Context, tx pgx.Tx, o outgoing) ([]pending, error) {
	if !c.now().Before(o.expiresAt) {
		return nil, c.skip(ctx, tx, o.env, "skipped: expired")
	}
	if c.now().Sub(o.env.OccurredAt) >= lateAfter {
		by, err := c.supersededBy(ctx, o.env)
		if err != nil {
			return nil, err
		}
		if by != "" {
			return nil, c.skip(ctx, tx, o.env, "skipped: superseded by "+by)
		}
	}
	claimed, err := claim(ctx, tx, o.env.EventID, "pending")
	if err != nil || !claimed {
		return nil, err
	}
	err = tx.QueryRow(ctx, `SELECT name FROM mail_account_names WHERE account_id = $1`, o.to.accountID).Scan(&o.accountName)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	return []pending{{env: o.env, key: o.env.EventID, write: func() (Message, error) { return c.invitation(o) }}}, nil
}

// skip records that an event's email is not sent, and why.
func (c *Consumer) skip(ctx context.Context, tx pgx.Tx, env event.Envelope, why string) error {
	c.logger(env).Info("email not sent", "reason", why)
	_, err := claim(ctx, tx, env.EventID, why)
	return err
}

// claim inserts a row in mail_sent; false when it was there. The key is
// the event's id, or for an event that mails several people one derived
// from it per recipient (recipientKey).
func claim(ctx context.Context, tx pgx.Tx, key uuid.UUID, outcome string) (bool, error) {
	tag, err := tx.Exec(ctx, `
		INSERT INTO mail_sent (event_id, outcome) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING`,
		key, outcome)
	return tag.RowsAffected() == 1, err
}

// sentMail is the outcome of one claimed email, for mail_sent.
type sentMail struct {
	key     uuid.UUID
	outcome string
	at      time.Time
}

// deliver sends a claimed email and says how it went.
func (c *Consumer) deliver(ctx context.Context, p pending) sentMail {
	log := c.logger(p.env).With("mail_key", p.key)
	outcome := "sent"
	if err := c.send(ctx, p); err != nil {
		outcome = truncate("failed: "+err.Error(), 500)
		log.Error("email not sent", "error", err)
	} else {
		log.Info("email sent")
	}
	return sentMail{key: p.key, outcome: outcome, at: time.Now()}
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
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
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
	return c.retry(ctx, p.env, func(ctx context.Context) error { return withoutRecipient(c.Sender.Send(ctx, m), m.To) })
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

// invitation derives the token and writes the invitation email.
func (c *Consumer) invitation(o outgoing) (Message, error) {
	secret := user.InvitationSecret(c.TokenKey, o.invitationID)
	if user.HashSecret(secret) != o.tokenHash {
		return Message{}, errors.New("the token key does not derive the event's token hash (wrong key?)")
	}
	token := user.FormatToken(o.to.userID, secret)
	m, err := RenderInvitation(o.to.language, Invitation{
		FirstName: o.to.firstName, LastName: o.to.lastName, AccountName: o.accountName,
		Token: token, AcceptURL: AcceptURL(c.BaseURL, token), ExpiresAt: o.expiresAt,
	})
	if err != nil {
		return Message{}, err
	}
	m.To = (&mail.Address{Name: PersonName(o.to.language, o.to.firstName, o.to.lastName), Address: o.to.email}).String()
	m.ID = "invitation." + o.env.EventID.String()
	m.Headers["X-Bizcenter-Event-Id"] = o.env.EventID.String()
	return m, nil
}

// retry tries a send a few times with a doubling pause; not one that may
// have gone out (ErrMaybeSent), which a try more could mail twice. A try
// runs to its end (sendTimeout bounds it) when ctx ends meanwhile: the
// email is claimed, committed, and no other instance will send it, so one
// cut short because this instance lost its lead on the mailer was lost
// for good; no further try begins once ctx has ended.
func (c *Consumer) retry(ctx context.Context, env event.Envelope, send func(context.Context) error) error {
	delay := cmp.Or(c.RetryDelay, time.Second)
	attempts := cmp.Or(c.Attempts, 3)
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		err := send(actx)
		cancel()
		if err == nil || attempt >= attempts || ctx.Err() != nil || errors.Is(err, ErrMaybeSent) {
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

// truncate cuts s to at most n bytes of valid UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
