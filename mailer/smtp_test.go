package mailer_test

import (
	"cmp"
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/mailer"
)

// received is what the fake SMTP server was told for one message.
type received struct {
	from, to, auth string
	tls            bool
	data           []byte
	conn           int // which connection it came on, from 1
}

// fakeRelay is a fake SMTP server on 127.0.0.1, offering STARTTLS when
// given a certificate; it serves any number of connections and messages.
type fakeRelay struct {
	addr  string
	got   chan received
	conns atomic.Int32
	// dropAfter, when set, closes each connection after that many
	// messages, without a word, as a relay's idle timeout does.
	dropAfter int
	// hangUpOnData closes the connection once a message's data is in,
	// before the reply that it was queued: the relay may have it.
	// stallOnData gives no reply then, and waits for the client to go.
	hangUpOnData, stallOnData bool
	// refuseData answers a message's data with a permanent refusal.
	refuseData bool
	// bare announces neither 8BITMIME nor SMTPUTF8, as a relay that
	// takes 7-bit ASCII only; utf8 announces SMTPUTF8 besides 8BITMIME.
	bare, utf8 bool
	// rcptReply, when set, answers every RCPT with it ("550 5.1.1 …");
	// rcpts counts the RCPTs received.
	rcptReply string
	rcpts     atomic.Int32
	// hangUpOnRcpt closes the connection at a RCPT, without a reply:
	// a relay that goes away after it took the sender, before the data.
	hangUpOnRcpt bool
	// mailReply, when set, answers every MAIL with it.
	mailReply string
	// stallOnMail gives no answer to a MAIL, tells stalling (when set
	// before it) and waits for the client to go: a relay gone quiet on
	// a connection kept open.
	stallOnMail atomic.Bool
	stalling    chan struct{}
}

func fakeSMTP(t *testing.T, cert *tls.Certificate) (string, <-chan received) {
	t.Helper()
	r := newRelay(t, cert, 0)
	return r.addr, r.got
}

func newRelay(t *testing.T, cert *tls.Certificate, dropAfter int) *fakeRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &fakeRelay{addr: ln.Addr().String(), got: make(chan received, 16), dropAfter: dropAfter}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(conn, cert, int(r.conns.Add(1)))
		}
	}()
	return r
}

func (f *fakeRelay) serve(conn net.Conn, cert *tls.Certificate, n int) {
	defer func() { conn.Close() }()
	tp := textproto.NewConn(conn)
	reply := func(line string) { _ = tp.PrintfLine("%s", line) }
	reply("220 fake ESMTP")
	r, sent := received{conn: n}, 0
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reply("250-fake greets " + arg)
			if cert != nil && !r.tls {
				reply("250-STARTTLS")
			}
			if f.utf8 {
				reply("250-SMTPUTF8")
			}
			if !f.bare {
				reply("250-8BITMIME")
			}
			reply("250 AUTH PLAIN")
		case "STARTTLS":
			reply("220 ready")
			conn = tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{*cert}})
			tp, r.tls = textproto.NewConn(conn), true
		case "AUTH":
			r.auth = arg
			reply("235 ok")
		case "MAIL":
			r.from = arg
			if f.stallOnMail.Load() {
				select {
				case f.stalling <- struct{}{}:
				default:
				}
				_, _ = tp.ReadLine() // until the client hangs up
				return
			}
			reply(cmp.Or(f.mailReply, "250 ok"))
		case "RCPT":
			r.to = arg
			f.rcpts.Add(1)
			if f.hangUpOnRcpt {
				return
			}
			reply(cmp.Or(f.rcptReply, "250 ok"))
		case "DATA":
			reply("354 go on")
			r.data, _ = tp.ReadDotBytes()
			if f.hangUpOnData || f.stallOnData {
				f.got <- r
				if f.stallOnData {
					_, _ = tp.ReadLine() // until the client hangs up
				}
				return
			}
			if f.refuseData {
				reply("554 rejected")
				continue
			}
			reply("250 queued")
			f.got <- r
			if sent++; sent == f.dropAfter {
				return
			}
		case "QUIT":
			reply("221 bye")
			return
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
	s := &mailer.SMTPSender{Addr: addr, From: "Business Center <bc@example.com>", Username: "u", Password: "p"}
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
	s := &mailer.SMTPSender{Addr: addr, From: "bc@example.com", TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}}
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
	err = (&mailer.SMTPSender{Addr: ln.Addr().String(), From: "bc@example.com"}).Send(ctx, smtpMessage)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

// A send cut short while the relay has the message's data and has not
// answered says the message may have gone (ErrMaybeSent), besides that
// the context ended, so that nobody sends it again.
func TestSMTPSender_says_a_message_may_have_gone_when_cut_short_after_its_data(t *testing.T) {
	relay := newRelay(t, nil, 0)
	relay.stallOnData = true
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := (&mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com"}).Send(ctx, smtpMessage)
	await(t, relay.got)
	if !errors.Is(err, mailer.ErrMaybeSent) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want both ErrMaybeSent and the context's deadline", err)
	}
}

// A relay that refuses a message's data has not got it: that failure is
// no ErrMaybeSent. Refused with a 5xx, it is refused for good
// (ErrPermanent), and the mailer does not try again.
func TestSMTPSender_a_refused_message_is_not_one_that_may_have_gone(t *testing.T) {
	relay := newRelay(t, nil, 0)
	relay.refuseData = true
	err := (&mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com"}).Send(context.Background(), smtpMessage)
	if err == nil || errors.Is(err, mailer.ErrMaybeSent) || !errors.Is(err, mailer.ErrPermanent) {
		t.Fatalf("err %v, want a permanent refusal that is no ErrMaybeSent", err)
	}
}

// Messages in a row share one conversation: one connection, one TLS
// handshake, one authentication.
func TestSMTPSender_keeps_its_connection_for_the_next_message(t *testing.T) {
	cert, roots := selfSigned(t)
	relay := newRelay(t, &cert, 0)
	s := &mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com", Username: "u", Password: "p",
		TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}}
	defer s.Close()
	for i := range 3 {
		if err := s.Send(context.Background(), smtpMessage); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if r := await(t, relay.got); r.conn != 1 || !r.tls || r.auth == "" || r.to != "TO:<minji@example.kr>" {
			t.Fatalf("message %d: connection %d, tls %v, auth %q, rcpt %q", i, r.conn, r.tls, r.auth, r.to)
		}
	}
	if n := relay.conns.Load(); n != 1 {
		t.Fatalf("%d connections for 3 messages, want 1", n)
	}
}

// A relay that dropped the kept connection (an idle timeout) costs a new
// one, not the message.
func TestSMTPSender_dials_again_when_the_relay_dropped_the_kept_connection(t *testing.T) {
	relay := newRelay(t, nil, 1)
	s := &mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com"}
	defer s.Close()
	for i := range 3 {
		if err := s.Send(context.Background(), smtpMessage); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if r := await(t, relay.got); r.conn != i+1 {
			t.Fatalf("message %d came on connection %d, want %d", i, r.conn, i+1)
		}
	}
}

// A connection idle longer than KeepFor is not used again; a negative
// KeepFor closes each after its message.
func TestSMTPSender_lets_an_idle_connection_go(t *testing.T) {
	for _, keep := range []time.Duration{time.Millisecond, -1} {
		relay := newRelay(t, nil, 0)
		s := &mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com", KeepFor: keep}
		for range 2 {
			if err := s.Send(context.Background(), smtpMessage); err != nil {
				t.Fatal(err)
			}
			await(t, relay.got)
			time.Sleep(5 * time.Millisecond)
		}
		if n := relay.conns.Load(); n != 2 {
			t.Fatalf("KeepFor %v: %d connections for 2 messages, want 2", keep, n)
		}
		s.Close()
	}
}

// selfSigned makes a certificate for 127.0.0.1 and the pool trusting it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
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

// BenchmarkSMTPSender sends messages one after another to a local relay
// over STARTTLS, with the connection kept and with one a message.
func BenchmarkSMTPSender(b *testing.B) {
	cert, roots := selfSigned(b)
	for _, keep := range []time.Duration{0, -1} {
		name := map[bool]string{true: "kept", false: "one_a_message"}[keep == 0]
		b.Run(name, func(b *testing.B) {
			relay := &fakeRelay{got: make(chan received, 1)}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					conn, err := ln.Accept()
					if err != nil {
						return
					}
					go relay.serve(conn, &cert, int(relay.conns.Add(1)))
				}
			}()
			go func() {
				for range relay.got {
				}
			}()
			s := &mailer.SMTPSender{Addr: ln.Addr().String(), From: "bc@example.com", KeepFor: keep,
				TLSConfig: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}}
			defer s.Close()
			for b.Loop() {
				if err := s.Send(context.Background(), smtpMessage); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
