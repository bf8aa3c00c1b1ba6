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
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Sender delivers one message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrMaybeSent marks a failed send after which the message may have gone
// out all the same (the relay took its data and gave no answer): sending
// it again could mail the person twice, so the mailer does not.
var ErrMaybeSent = errors.New("the relay may have the message")

// ErrPermanent marks a failed send that no further try would change:
// the relay refused the message for good (a 5xx reply), or cannot take
// it at all (a non-ASCII address, to a relay without SMTPUTF8). The
// mailer records such an email failed at once.
var ErrPermanent = errors.New("the relay will not take the message")

// ErrRelayAway marks a send that failed before the relay took anything
// of the message and for no reason of the message's own: it could not be
// reached, or refused the session or the sender (a connection refused or
// cut, a failed greeting, STARTTLS or authentication, MAIL FROM refused).
// No email can go out then, and the mailer waits for the relay rather than
// record its emails failed (Consumer.wait).
var ErrRelayAway = errors.New("the relay cannot be reached")

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
// header text RFC 2047-encoded, the body in UTF-8 (encodeBody).
func (m Message) Bytes() ([]byte, error) { return m.render(false) }

// render is Bytes, the body in 7-bit text when sevenBit: for a relay that
// does not announce 8BITMIME (RFC 6152), which may cut 8-bit bytes to
// seven bits.
func (m Message) render(sevenBit bool) ([]byte, error) {
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
	header("To", addressText(to))
	header("Subject", headerText(m.Subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", "<"+messageID(m.ID, from.Address)+">")
	header("MIME-Version", "1.0")
	body, encoding := encodeBody(m.TextBody, sevenBit)
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", encoding)
	for _, name := range slices.Sorted(maps.Keys(m.Headers)) {
		if err := checkExtraHeader(name, m.Headers[name]); err != nil {
			return nil, err
		}
		header(textproto.CanonicalMIMEHeaderKey(name), headerText(m.Headers[name]))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes(), nil
}

// encodeBody writes the text body with CRLF line ends and names its
// transfer encoding: 8bit when every line fits RFC 5322's limit, so that
// no line (the invitation token's, say) is ever broken; quoted-printable
// otherwise, whose soft line breaks a reader removes. A line of an email
// may hold several names (a visibility grant's account and partners, 200
// characters each, up to 4 bytes a character), and a body that could not
// be written failed its email on every try. In sevenBit, non-ASCII text
// goes quoted-printable too, and ASCII text 7bit.
func encodeBody(text string, sevenBit bool) ([]byte, string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var b bytes.Buffer
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		if len(line) > maxLine || sevenBit && !isASCII(line) {
			return quotedPrintable(text), "quoted-printable"
		}
		b.WriteString(line + "\r\n")
	}
	if sevenBit {
		return b.Bytes(), "7bit"
	}
	return b.Bytes(), "8bit"
}

func isASCII(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r >= utf8.RuneSelf })
}

// quotedPrintable encodes text, its line ends as CRLF and the last line
// ended like the others.
func quotedPrintable(text string) []byte {
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(text)) // a bytes.Buffer takes every write
	_ = w.Close()
	return b.Bytes()
}

// headerText is text for a header field, RFC 2047-encoded when it holds
// non-ASCII or what reads as an encoded-word ("=?utf-8?q?…?="): a mail
// reader decodes such ASCII, and an account named
// "=?utf-8?q?=E2=80=AEdtL_osotnoC?=" showed in the subject reversed, by a
// bidirectional override the input rules refuse in a name. Encoded, it
// shows as written.
func headerText(s string) string {
	enc := mime.QEncoding.Encode("utf-8", s)
	if enc == s && strings.Contains(s, "=?") {
		return asciiWords(s) // mime leaves ASCII as it is
	}
	return enc
}

// addressText writes an address for a header field as net/mail does, but
// a display name it quotes that holds what reads as an encoded-word is
// encoded (see headerText): mail readers decode those in quotes too.
func addressText(a *mail.Address) string {
	s := a.String()
	if !strings.HasPrefix(s, `"`) || !strings.Contains(a.Name, "=?") {
		return s
	}
	return asciiWords(a.Name) + " " + (&mail.Address{Address: a.Address}).String()
}

// asciiWords Q-encodes ASCII text, 20 bytes a word (at most 60 encoded,
// within RFC 2047's 75 a word), every byte but letters, digits and spaces
// written =XX, as an encoded-word in a display name needs.
func asciiWords(s string) string {
	var words []string
	for len(s) > 0 {
		n := min(len(s), 20)
		var w strings.Builder
		for _, c := range []byte(s[:n]) {
			switch {
			case c == ' ':
				w.WriteByte('_')
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
				w.WriteByte(c)
			default:
				fmt.Fprintf(&w, "=%02X", c)
			}
		}
		words = append(words, "=?utf-8?q?"+w.String()+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
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
