// Package mailer sends the emails the event log asks for: the invitation
// email, with its accept token derived from the event and the server key
// (never stored), and the announcement of a partner visibility grant to
// the grantee's admins. The Consumer follows the feed under a permanent
// name; a Sender delivers, to a directory of .eml files in development
// (FileSender) or to an SMTP relay (SMTPSender).
package mailer

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrMaybeSent marks a failed send after which the message may have gone
// out all the same (the relay took its data and gave no answer): sending
// it again could mail the person twice, so the mailer does not.
var ErrMaybeSent = errors.New("the relay may have the message")

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, m Message) error

func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// Message is a plain-text email.
type Message struct {
	// From and To are RFC 5322 addresses, with or without a display name
	// ("Kim Minji <minji@example.com>"). A sender may fill an empty From.
	From, To string
	Subject  string
	// TextBody is UTF-8 text; lines end in "\n" or "\r\n".
	TextBody string
	// Date defaults to the time of sending.
	Date time.Time
	// ID is the Message-ID without angle brackets; a bare left part gets
	// the From domain, and an empty ID a random one.
	ID string
	// Headers are extra header fields (X-…, Content-Language, …).
	Headers map[string]string
}

// DefaultFrom is the From of a message that names none.
const DefaultFrom = "Business Center <no-reply@bizcenter.invalid>"

// maxLine is RFC 5322's limit on a line, without its CRLF.
const maxLine = 998

// Bytes renders the message as RFC 5322 text: CRLF line ends, non-ASCII
// header text RFC 2047-encoded, the body in 8bit UTF-8 so that no line (the
// invitation token's, say) is ever broken.
func (m Message) Bytes() ([]byte, error) {
	from, err := mail.ParseAddress(cmp.Or(m.From, DefaultFrom))
	if err != nil {
		return nil, fmt.Errorf("message from %q: %w", m.From, err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("message to %q: %w", m.To, err)
	}
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	var b bytes.Buffer
	header := func(name, value string) {
		// Fold between encoded-words, which long non-ASCII text splits into,
		// so that a long Korean subject stays within the line limit.
		fmt.Fprintf(&b, "%s: %s\r\n", name, strings.ReplaceAll(value, "?= =?", "?=\r\n =?"))
	}
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+messageID(m.ID, from.Address)+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	for _, name := range slices.Sorted(maps.Keys(m.Headers)) {
		if err := checkExtraHeader(name, m.Headers[name]); err != nil {
			return nil, err
		}
		header(textproto.CanonicalMIMEHeaderKey(name), mime.QEncoding.Encode("utf-8", m.Headers[name]))
	}
	b.WriteString("\r\n")
	for line := range strings.Lines(strings.ReplaceAll(m.TextBody, "\r\n", "\n")) {
		line = strings.TrimSuffix(line, "\n")
		if len(line) > maxLine {
			return nil, fmt.Errorf("message body: a line of %d bytes is longer than %d", len(line), maxLine)
		}
		b.WriteString(line + "\r\n")
	}
	return b.Bytes(), nil
}

// reserved are the fields Bytes writes itself.
var reserved = []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version", "Content-Type", "Content-Transfer-Encoding"}

func checkExtraHeader(name, value string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r > '~' || r == ':' }) {
		return fmt.Errorf("message header name %q: not a field name", name)
	}
	if slices.Contains(reserved, textproto.CanonicalMIMEHeaderKey(name)) {
		return fmt.Errorf("message header %s: set by the message itself", name)
	}
	if strings.ContainsAny(value, "\r\n") {
		return errors.New("message header " + name + ": value spans lines")
	}
	return nil
}

// messageID completes an id with the sender's domain.
func messageID(id, fromAddress string) string {
	if strings.Contains(id, "@") {
		return id
	}
	if id == "" {
		id = randomHex(12)
	}
	_, domain, _ := strings.Cut(fromAddress, "@")
	return id + "@" + cmp.Or(domain, "bizcenter.invalid")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
