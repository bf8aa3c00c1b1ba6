package service_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Service.Serve bounds how long a client may take to send a request and
// how long a kept-alive connection may idle: a client that opens
// connections and sends nothing more does not hold them, and their
// goroutines and file descriptors, for good. A feed outlives the bound.
func TestServe_drops_clients_that_send_too_slowly_or_idle_but_keeps_a_feed(t *testing.T) {
	h := start(t, options{asTheBinary: true, readTimeout: time.Second, idleTimeout: time.Second})
	addr := strings.TrimPrefix(h.url, "http://")

	slow := dial(t, addr)
	fmt.Fprint(slow, "POST /v1/invitations/accept HTTP/1.1\r\nHost: bizcenter.test\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	idle := dial(t, addr)
	fmt.Fprint(idle, "GET /healthz HTTP/1.1\r\nHost: bizcenter.test\r\n\r\n")
	idleReader := bufio.NewReader(idle)
	resp, err := http.ReadResponse(idleReader, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	feed := dial(t, addr)
	fmt.Fprintf(feed, "GET /v1/feed?heartbeat=1 HTTP/1.1\r\nHost: bizcenter.test\r\nAuthorization: Bearer %s\r\n\r\n",
		h.token("op-1", "ops@bizcenter.example", true))

	closedWithin(t, "a connection whose body never comes", bufio.NewReader(slow), slow, 10*time.Second)
	closedWithin(t, "an idle kept-alive connection", idleReader, idle, 10*time.Second)

	// Three heartbeats at one a second: the feed is still served after
	// the read timeout has passed.
	feedReader := bufio.NewReader(feed)
	_ = feed.SetReadDeadline(time.Now().Add(10 * time.Second))
	beats := 0
	for beats < 3 {
		line, err := feedReader.ReadString('\n')
		if err != nil {
			t.Fatalf("the feed ended after %d heartbeats: %v", beats, err)
		}
		if strings.HasPrefix(line, ": heartbeat") {
			beats++
		}
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reads what the server still sends on c until it closes
// the connection, and fails if it has not within d.
func closedWithin(t *testing.T, what string, r *bufio.Reader, c net.Conn, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, r)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("%s is still open after %s", what, d)
	}
}
