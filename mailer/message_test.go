package mailer_test

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/mailer"
)

// parse reads a rendered message back with the standard library.
func parse(t *testing.T, raw []byte) (*mail.Message, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, raw)
	}
	body, err := io.ReadAll(m.Body)
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
		"no recipient":       func(m *mailer.Message) { m.To = "" },
		"header injection":   func(m *mailer.Message) { m.Headers = map[string]string{"X-A": "1\r\nBcc: x@example.com"} },
		"reserved header":    func(m *mailer.Message) { m.Headers = map[string]string{"bcc": "x", "subject": "again"} },
		"bad header name":    func(m *mailer.Message) { m.Headers = map[string]string{"X A": "1"} },
		"line over 998 byte": func(m *mailer.Message) { m.TextBody = strings.Repeat("x", 999) },
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
