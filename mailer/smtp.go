package mailer

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"sync"
	"time"
)

// SMTPSender sends through an SMTP relay. It upgrades to TLS with STARTTLS
// whenever the server offers it, and authenticates (PLAIN) only when
// Username is set; net/smtp refuses PLAIN over a clear connection except
// to localhost.
//
// It keeps its connection open between messages, for up to KeepFor idle:
// the greeting, STARTTLS (with its handshake) and authentication took
// eight round trips of a message's twelve, and a mailer sending one
// message after another was bound by them. Messages go one at a time.
// Use it by pointer; Close ends the kept conversation.
type SMTPSender struct {
	// Addr is host:port of the relay.
	Addr string
	// From is the envelope sender, and the From of a message naming none.
	From               string
	Username, Password string
	// TLSConfig verifies the server after STARTTLS; nil verifies its
	// certificate against the system roots for the host of Addr.
	TLSConfig *tls.Config
	// LocalName is the name given in EHLO; "localhost" when empty.
	LocalName string
	// KeepFor is how long an idle connection is kept for the next
	// message: 0 is DefaultKeepFor, a negative one closes each after its
	// message.
	KeepFor time.Duration

	mu   sync.Mutex
	kept *session
}

// closeWithin bounds Close's QUIT.
const closeWithin = 2 * time.Second

// DefaultKeepFor stays under the idle timeouts relays commonly apply
// (RFC 5321 asks servers to wait at least five minutes).
const DefaultKeepFor = 30 * time.Second

var _ Sender = (*SMTPSender)(nil)

// session is an open conversation with the relay, past its greeting.
type session struct {
	conn net.Conn
	c    *smtp.Client
	idle time.Time // since when it waits for a message
}

// errNotStarted marks a failure before the relay could have taken a
// message (beforeData): on a kept connection (which the relay may have
// dropped), the message can go again on a new one.
var errNotStarted = errors.New("no message started")

// Send implements Sender. The whole conversation ends when ctx does. A
// relay that cannot be reached, or refuses the session or the sender, is
// ErrRelayAway; its permanent refusal of the message (a 5xx reply) is
// ErrPermanent.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	err := s.send(ctx, m)
	if errors.Is(err, ErrRelayAway) {
		return err
	}
	return permanent(err)
}

func (s *SMTPSender) send(ctx context.Context, m Message) error {
	m.From = cmp.Or(m.From, s.From)
	// The message is written for each session, as its relay takes it
	// (writeFor): its date and id are fixed here, the same in each.
	if m.Date.IsZero() {
		m.Date = time.Now()
	}
	if m.ID == "" {
		m.ID = randomHex(12)
	}
	if _, err := m.Bytes(); err != nil {
		return err
	}
	envFrom, err := mail.ParseAddress(cmp.Or(s.From, m.From))
	if err != nil {
		return fmt.Errorf("smtp sender %q: %w", s.From, err)
	}
	rcpt, _ := mail.ParseAddress(m.To) // Bytes parsed it already
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.take(); k != nil {
		err := s.deliver(ctx, k, envFrom.Address, rcpt.Address, m)
		if !errors.Is(err, errNotStarted) {
			return err
		}
		if ctx.Err() != nil {
			// The relay went quiet on the kept connection before it took
			// the sender, and no fresh one is left time: away, as a dial
			// cut short is. Plain, the email under way at a stop was
			// recorded failed, never sent.
			return fmt.Errorf("%w: %w", ErrRelayAway, err)
		}
	}
	k, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("smtp %s: %w: %w", s.Addr, ErrRelayAway, ctxErr(ctx, err))
	}
	err = s.deliver(ctx, k, envFrom.Address, rcpt.Address, m)
	if errors.Is(err, errNotStarted) {
		// On a fresh session: the relay refused the sender, as it would
		// every message's, or went before the data.
		return fmt.Errorf("%w: %w", ErrRelayAway, err)
	}
	return err
}

// permanent marks a relay's permanent refusal, a 5xx reply (RFC 5321
// 4.2.1), as ErrPermanent, its text kept: another try would get the same
// answer. A 4xx is a temporary one.
func permanent(err error) error {
	var reply *textproto.Error
	if errors.As(err, &reply) && reply.Code >= 500 {
		return refusal{err}
	}
	return err
}

// refusal is an error that is ErrPermanent.
type refusal struct{ error }

func (r refusal) Unwrap() error      { return r.error }
func (refusal) Is(target error) bool { return target == ErrPermanent }

// Close ends the kept conversation, if any.
func (s *SMTPSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.kept; k != nil {
		s.kept = nil
		// A relay gone quiet must not hold up a shutdown.
		_ = k.conn.SetDeadline(time.Now().Add(closeWithin))
		err := k.c.Quit()
		k.c.Close()
		return err
	}
	return nil
}

// take hands over the kept session, unless it was idle too long.
func (s *SMTPSender) take() *session {
	k := s.kept
	s.kept = nil
	if k != nil && time.Since(k.idle) >= s.keepFor() {
		k.c.Close() // no QUIT: a relay gone quiet would hold it up
		return nil
	}
	return k
}

func (s *SMTPSender) keepFor() time.Duration { return cmp.Or(s.KeepFor, DefaultKeepFor) }

// dial opens a session: connection, greeting, STARTTLS when offered,
// authentication when configured.
func (s *SMTPSender) dial(ctx context.Context) (*session, error) {
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, err
	}
	// Closing the connection when ctx ends interrupts any read or write,
	// and ctx.Err is set by then (a deadline on the connection could fire
	// first and hide it).
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := s.greet(c, host); err != nil {
		c.Close()
		return nil, err
	}
	return &session{conn: conn, c: c}, nil
}

func (s *SMTPSender) greet(c *smtp.Client, host string) error {
	if err := c.Hello(cmp.Or(s.LocalName, "localhost")); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: host}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	return nil
}

// deliver sends one message in session k, and keeps k for the next
// message when it went well; else k is closed.
func (s *SMTPSender) deliver(ctx context.Context, k *session, from, to string, m Message) error {
	keep := s.keepFor() > 0
	stop := context.AfterFunc(ctx, func() { k.conn.Close() })
	err := transfer(k.c, from, to, m)
	if err == nil && !keep {
		// The relay has the message: a QUIT it does not answer is no
		// reason to send it again.
		_ = k.c.Quit()
	}
	open := stop() // false: ctx ended, and closed the connection
	switch {
	case err != nil:
		k.c.Close()
		return fmt.Errorf("smtp %s: %w", s.Addr, ctxErr(ctx, err))
	case !keep || !open:
		k.c.Close()
	default:
		k.idle, s.kept = time.Now(), k
	}
	return nil
}

// transfer runs one mail transaction: MAIL, RCPT, DATA.
func transfer(c *smtp.Client, from, to string, m Message) error {
	raw, err := writeFor(c, from, to, m)
	if err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("%w: mail from: %w", errNotStarted, err)
	}
	if err := c.Rcpt(to); err != nil {
		return beforeData("rcpt to", err)
	}
	w, err := c.Data()
	if err != nil {
		return beforeData("data", err)
	}
	if _, err := w.Write(raw); err != nil {
		w.Close()
		return beforeData("data", err)
	}
	if err := w.Close(); err != nil {
		// The close ends the data and reads the relay's answer. An answer
		// refusing the message leaves it unsent; no answer (the connection
		// lost or cut short by the context) may come after the relay
		// queued it.
		var reply *textproto.Error
		if !errors.As(err, &reply) {
			return fmt.Errorf("%w: data: %w", ErrMaybeSent, err)
		}
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// beforeData is a failure of a mail transaction before the end of its
// data, at step. Without a reply (the connection lost, or cut short by
// the context) the relay has taken nothing it could deliver, as before
// it took the sender (errNotStarted): the message can go again, and a
// relay that drops the connection there is away. Plain, a relay that
// hung after the sender and then went had the email of an instance that
// lost its lead meanwhile (one try) recorded failed, never sent. A reply
// (a 4xx or 5xx to the recipient) is the message's own.
func beforeData(step string, err error) error {
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return fmt.Errorf("%s: %w", step, err)
	}
	return fmt.Errorf("%w: %s: %w", errNotStarted, step, err)
}

// writeFor writes m as the relay of c takes it: 8-bit only when it
// announced 8BITMIME (RFC 6152), else quoted-printable. An address with
// non-ASCII, in the envelope or the header, only when it announced
// SMTPUTF8 (RFC 6531): no encoding of a local part such as 김지우 reaches
// the mailbox through another relay, so the message fails for good.
func writeFor(c *smtp.Client, from, to string, m Message) ([]byte, error) {
	eightBit, _ := c.Extension("8BITMIME")
	raw, err := m.render(!eightBit)
	if err != nil {
		return nil, err
	}
	header, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	if ok, _ := c.Extension("SMTPUTF8"); !ok && !isASCII(from+to+string(header)) {
		return nil, fmt.Errorf("%w: a non-ASCII address needs SMTPUTF8, which the relay does not announce", ErrPermanent)
	}
	return raw, nil
}

// ctxErr prefers the context's error to the closed connection it caused,
// keeping what the failure says (ErrMaybeSent) for errors.Is.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}
