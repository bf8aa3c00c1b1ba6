package mailer_test

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/mailer"
)

// parse reads a rendered message back with the standard library, its
// body decoded from its transfer encoding.
func parse(t *testing.T, raw []byte) (*mail.Message, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, raw)
	}
	r := m.Body
	if m.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		r = quotedprintable.NewReader(r)
	}
	body, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return m, string(body)
}

func decoded(t *testing.T, h mail.Header, name string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(h.Get(name))
	if err != nil {
		t.Fatalf("decode %s %q: %v", name, h.Get(name), err)
	}
	return s
}

func TestMessage_Bytes_encodes_headers_and_keeps_long_lines_whole(t *testing.T) {
	token := strings.Repeat("A1b2_C3d4-", 12)
	subject := strings.Repeat("한국어 제목이 아주 깁니다 ", 30)
	raw, err := mailer.Message{
		From: "Business Center <noreply@example.com>", To: "김민지 <minji@example.kr>",
		Subject: subject, TextBody: "안녕하세요.\nInvitation token: " + token + "\n",
		Date: time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC), ID: "invitation.1",
		Headers: map[string]string{"Content-Language": "ko", "X-Bizcenter-Event-Id": "e1"},
	}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 || strings.Contains(line, "\n") {
			t.Fatalf("line %d is %d bytes or has a bare LF: %q", i, len(line), line)
		}
	}
	m, body := parse(t, raw)
	want := map[string]string{
		"From": "\"Business Center\" <noreply@example.com>", "Date": "Sat, 01 Mar 2025 09:30:00 +0000",
		"Message-Id": "<invitation.1@example.com>", "Mime-Version": "1.0",
		"Content-Type": "text/plain; charset=utf-8", "Content-Transfer-Encoding": "8bit",
		"Content-Language": "ko", "X-Bizcenter-Event-Id": "e1",
	}
	for name, v := range want {
		if got := m.Header.Get(name); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	if got := decoded(t, m.Header, "Subject"); got != subject {
		t.Errorf("subject = %q, want %q", got, subject)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "김민지" || to[0].Address != "minji@example.kr" {
		t.Errorf("To = %v (%v)", to, err)
	}
	if !strings.Contains(body, "\r\nInvitation token: "+token+"\r\n") {
		t.Errorf("token line broken or missing:\n%s", body)
	}
}

func TestMessage_Bytes_rejects_bad_input(t *testing.T) {
	ok := mailer.Message{To: "a@example.com", Subject: "s", TextBody: "b"}
	cases := map[string]func(m *mailer.Message){
		"no recipient":     func(m *mailer.Message) { m.To = "" },
		"header injection": func(m *mailer.Message) { m.Headers = map[string]string{"X-A": "1\r\nBcc: x@example.com"} },
		"reserved header":  func(m *mailer.Message) { m.Headers = map[string]string{"bcc": "x", "subject": "again"} },
		"bad header name":  func(m *mailer.Message) { m.Headers = map[string]string{"X A": "1"} },
	}
	if _, err := ok.Bytes(); err != nil {
		t.Fatalf("valid message: %v", err)
	}
	for name, change := range cases {
		m := ok
		change(&m)
		if _, err := m.Bytes(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// A body with a line over RFC 5322's 998 bytes (names of 200 characters
// each, in Korean or emoji) is sent quoted-printable, every line within
// the limit and the text read back as written; before, it was refused and
// the email never went.
func TestMessage_Bytes_sends_a_body_with_long_lines_quoted_printable(t *testing.T) {
	long := strings.Repeat("파트너🎉", 150) + " = " + strings.Repeat("x", 300)
	text := "Hello,\n\n" + long + "\nInvitation token: A1b2_C3d4-\n"
	raw, err := mailer.Message{To: "a@example.com", Subject: "s", TextBody: text}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 || strings.Contains(line, "\n") {
			t.Fatalf("line %d is %d bytes or has a bare LF: %q", i, len(line), line)
		}
	}
	m, body := parse(t, raw)
	if got := m.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
		t.Errorf("Content-Transfer-Encoding %q", got)
	}
	if want := strings.ReplaceAll(text, "\n", "\r\n"); body != want {
		t.Errorf("body read back:\n%q\nwant\n%q", body, want)
	}
}

// Text that reads as an encoded-word (a name typed "=?utf-8?q?…?=") is
// encoded, so that mail readers show it as written: left as it was, they
// decoded it, and a subject showed an account's name reversed by a
// bidirectional override the input rules refuse in names. A display name
// in quotes was decoded by readers all the same.
func TestMessage_Bytes_encodes_text_that_reads_as_an_encoded_word(t *testing.T) {
	name := "=?utf-8?q?=E2=80=AEdtL_osotnoC?="
	subject := "You're invited to " + name + " on the Business Center"
	to := (&mail.Address{Name: name + " \"Ann\"", Address: "ann@example.com"}).String()
	raw, err := mailer.Message{To: to, Subject: subject, TextBody: "b",
		Headers: map[string]string{"X-Note": name}}.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	if strings.Contains(head, name) {
		t.Errorf("the look-alike is in the header as it was:\n%s", head)
	}
	for _, line := range strings.Split(head, "\r\n") {
		if len(line) > 78 {
			t.Errorf("header line of %d bytes: %q", len(line), line)
		}
	}
	m, _ := parse(t, raw)
	if got := decoded(t, m.Header, "Subject"); got != subject {
		t.Errorf("subject reads %q, want %q", got, subject)
	}
	if got := decoded(t, m.Header, "X-Note"); got != name {
		t.Errorf("X-Note reads %q, want %q", got, name)
	}
	addrs, err := m.Header.AddressList("To")
	if err != nil || len(addrs) != 1 || addrs[0].Name != name+" \"Ann\"" || addrs[0].Address != "ann@example.com" {
		t.Errorf("To = %v (%v)", addrs, err)
	}
}
