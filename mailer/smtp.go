package mailer

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
)

// SMTPSender sends through an SMTP relay. It upgrades to TLS with STARTTLS
// whenever the server offers it, and authenticates (PLAIN) only when
// Username is set; net/smtp refuses PLAIN over a clear connection except
// to localhost.
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
}

var _ Sender = SMTPSender{}

// Send implements Sender. The whole conversation ends when ctx does.
func (s SMTPSender) Send(ctx context.Context, m Message) error {
	m.From = cmp.Or(m.From, s.From)
	raw, err := m.Bytes()
	if err != nil {
		return err
	}
	envFrom, err := mail.ParseAddress(cmp.Or(s.From, m.From))
	if err != nil {
		return fmt.Errorf("smtp sender %q: %w", s.From, err)
	}
	rcpt, _ := mail.ParseAddress(m.To) // Bytes parsed it already
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	// Closing the connection when ctx ends interrupts any read or write,
	// and ctx.Err is set by then (a deadline on the connection could fire
	// first and hide it).
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: %w", s.Addr, ctxErr(ctx, err))
	}
	defer c.Close()
	if err := s.converse(c, host, envFrom.Address, rcpt.Address, raw); err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, ctxErr(ctx, err))
	}
	return nil
}

// converse runs one message's SMTP conversation on an open client.
func (s SMTPSender) converse(c *smtp.Client, host, from, to string, raw []byte) error {
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
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("rcpt to: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(raw); err != nil {
		w.Close()
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return c.Quit()
}

// ctxErr prefers the context's error to the closed connection it caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
