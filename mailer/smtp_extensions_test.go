package mailer_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/mailer"
)

// A relay that does not announce 8BITMIME takes 7-bit text only (RFC
// 6152): a body in Korean goes quoted-printable, every byte of it ASCII,
// and reads the same decoded; an ASCII one goes 7bit. Both went 8bit, and
// such a relay may cut the Korean to seven bits a byte. A relay that
// announces 8BITMIME still gets 8bit, each line whole.
func TestSMTPSender_sends_7bit_to_a_relay_without_8BITMIME(t *testing.T) {
	korean := smtpMessage
	korean.TextBody = "김민지 님, 초대합니다.\nInvitation token: abc\n"
	for _, c := range []struct {
		bare     bool
		m        mailer.Message
		mailFrom string
		encoding string
	}{
		{true, korean, "FROM:<bc@example.com>", "quoted-printable"},
		{true, smtpMessage, "FROM:<bc@example.com>", "7bit"},
		{false, korean, "FROM:<bc@example.com> BODY=8BITMIME", "8bit"},
	} {
		relay := newRelay(t, nil, 0)
		relay.bare = c.bare
		s := &mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com"}
		if err := s.Send(context.Background(), c.m); err != nil {
			t.Fatal(err)
		}
		s.Close()
		r := await(t, relay.got)
		if r.from != c.mailFrom {
			t.Errorf("8BITMIME announced %v: MAIL %s, want %s", !c.bare, r.from, c.mailFrom)
		}
		if c.bare && slices.ContainsFunc(r.data, func(b byte) bool { return b >= 0x80 }) {
			t.Errorf("8-bit data to a 7-bit relay:\n%s", r.data)
		}
		m, body := parse(t, r.data)
		if got := m.Header.Get("Content-Transfer-Encoding"); got != c.encoding {
			t.Errorf("8BITMIME announced %v: Content-Transfer-Encoding %q, want %q", !c.bare, got, c.encoding)
		}
		if body != c.m.TextBody {
			t.Errorf("body %q, want %q", body, c.m.TextBody)
		}
	}
}

// An address with its local part in Korean (the input rules allow it)
// can go only to a relay that announces SMTPUTF8 (RFC 6531). To another
// the send fails for good (ErrPermanent), saying why, before the relay is
// told anybody's address; it went out raw, for the relay to refuse or to
// garble.
func TestSMTPSender_sends_a_non_ASCII_address_only_to_a_relay_with_SMTPUTF8(t *testing.T) {
	m := smtpMessage
	m.To = "김지우 <김지우@contoso.example>"
	relay := newRelay(t, nil, 0)
	err := (&mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com", KeepFor: -1}).Send(context.Background(), m)
	if !errors.Is(err, mailer.ErrPermanent) || !strings.Contains(err.Error(), "SMTPUTF8") {
		t.Fatalf("err %v, want a permanent failure naming SMTPUTF8", err)
	}
	if n := relay.rcpts.Load(); n != 0 {
		t.Errorf("the relay was given %d recipients", n)
	}

	relay = newRelay(t, nil, 0)
	relay.utf8 = true
	if err := (&mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com", KeepFor: -1}).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if r := await(t, relay.got); r.from != "FROM:<bc@example.com> BODY=8BITMIME SMTPUTF8" || r.to != "TO:<김지우@contoso.example>" {
		t.Errorf("MAIL %s, RCPT %s", r.from, r.to)
	}
}
