package mailer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/mailer"
)

// received is what the fake SMTP server was told.
type received struct {
	from, to, auth string
	tls            bool
	data           []byte
}

// fakeSMTP serves one SMTP conversation on 127.0.0.1, offering STARTTLS
// when given a certificate.
func fakeSMTP(t *testing.T, cert *tls.Certificate) (string, <-chan received) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan received, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		got <- serveSMTP(conn, cert)
	}()
	return ln.Addr().String(), got
}

func serveSMTP(conn net.Conn, cert *tls.Certificate) (r received) {
	defer func() { conn.Close() }()
	tp := textproto.NewConn(conn)
	reply := func(line string) { _ = tp.PrintfLine("%s", line) }
	reply("220 fake ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return r
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reply("250-fake greets " + arg)
			if cert != nil && !r.tls {
				reply("250-STARTTLS")
			}
			reply("250-AUTH PLAIN")
			reply("250 8BITMIME")
		case "STARTTLS":
			reply("220 ready")
			conn = tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*cert}})
			tp, r.tls = textproto.NewConn(conn), true
		case "AUTH":
			r.auth = arg
			reply("235 ok")
		case "MAIL":
			r.from = arg
			reply("250 ok")
		case "RCPT":
			r.to = arg
			reply("250 ok")
		case "DATA":
			reply("354 go on")
			r.data, _ = tp.ReadDotBytes()
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return r
		default:
			reply("502 unknown")
		}
	}
}

func await(t *testing.T, got <-chan received) received {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the SMTP server got nothing")
		return received{}
	}
}

var smtpMessage = mailer.Message{To: "Kim Minji <minji@example.kr>", Subject: "초대", TextBody: "Invitation token: abc\n"}

func TestSMTPSender_sends_with_plain_auth(t *testing.T) {
	addr, got := fakeSMTP(t, nil)
	s := mailer.SMTPSender{Addr: addr, From: "Business Center <bc@example.com>", Username: "u", Password: "p"}
	if err := s.Send(context.Background(), smtpMessage); err != nil {
		t.Fatal(err)
	}
	r := await(t, got)
	if r.from != "FROM:<bc@example.com> BODY=8BITMIME" {
		t.Errorf("MAIL %s", r.from)
	}
	if r.to != "TO:<minji@example.kr>" {
		t.Errorf("RCPT %s", r.to)
	}
	if r.auth != "PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00u\x00p")) {
		t.Errorf("AUTH %s", r.auth)
	}
	m, body := parse(t, r.data)
	if m.Header.Get("From") != "\"Business Center\" <bc@example.com>" || decoded(t, m.Header, "Subject") != "초대" {
		t.Errorf("headers %v", m.Header)
	}
	if body != "Invitation token: abc\n" {
		t.Errorf("body %q", body)
	}
}

func TestSMTPSender_upgrades_with_STARTTLS_and_skips_auth_without_credentials(t *testing.T) {
	cert, roots := selfSigned(t)
	addr, got := fakeSMTP(t, &cert)
	s := mailer.SMTPSender{Addr: addr, From: "bc@example.com", TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}}
	if err := s.Send(context.Background(), smtpMessage); err != nil {
		t.Fatal(err)
	}
	r := await(t, got)
	if !r.tls || r.auth != "" || r.to != "TO:<minji@example.kr>" {
		t.Errorf("tls %v, auth %q, rcpt %q", r.tls, r.auth, r.to)
	}
}

func TestSMTPSender_gives_up_when_the_context_ends(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never greets
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = mailer.SMTPSender{Addr: ln.Addr().String(), From: "bc@example.com"}.Send(ctx, smtpMessage)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

// selfSigned makes a certificate for 127.0.0.1 and the pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}
