package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// dbProxy stands between the service and PostgreSQL: cut makes the
// database go away as a restart or a crash of its server does (the
// connections open are closed under their queries, new ones refused),
// and restore brings it back at the same address.
type dbProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	l      net.Listener
	conns  map[net.Conn]bool
}

// newDBProxy proxies dbURL and returns the proxy and the URL through it.
func newDBProxy(t *testing.T, dbURL string) (*dbProxy, string) {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &dbProxy{t: t, target: u.Host, conns: map[net.Conn]bool{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(p.cut)
	u.Host = p.addr
	return p, u.String()
}

func (p *dbProxy) serve(l net.Listener) {
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[s] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *dbProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *dbProxy) restore() {
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("the proxy cannot listen at %s again: %v", p.addr, err)
	}
	p.serve(l)
}

// While the database cannot be reached, or when its connection is cut
// under a query (the server restarting: "terminating connection due to
// administrator command"; or gone at once: "unexpected EOF"), a request
// that needs it answers 503 with Retry-After, as /readyz says then, on
// every route, rather than a 500; once the database is back, so is the
// service. A load test restarting PostgreSQL got 500s from commands and
// reads cut under their queries, and from the webhooks, the feed and the
// audit streams while it was down.
func TestService_answers_503_while_the_database_is_away_and_serves_again_once_back(t *testing.T) {
	direct := pgtest.URL(t)
	proxy, through := newDBProxy(t, direct)
	h := start(t, options{asTheBinary: true, dbURL: through})
	accountID, admin := h.registered()
	op := h.token("op-1", "ops@bizcenter.example", true)
	users := "/v1/accounts/" + accountID + "/users"

	ctx := context.Background()
	db, err := pgxpool.New(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A read held by a lock on the users' read model, then its
	// connection cut by cut.
	cutUnder := func(what string, cut func()) {
		t.Helper()
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, `LOCK TABLE rm_users IN ACCESS EXCLUSIVE MODE`); err != nil {
			t.Fatal(err)
		}
		answered := make(chan *http.Response, 1)
		go func() {
			req, _ := http.NewRequest("GET", h.url+users, nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				resp = &http.Response{StatusCode: 0, Status: err.Error(), Header: http.Header{}, Body: io.NopCloser(strings.NewReader(""))}
			}
			answered <- resp
		}()
		waitFor(t, "the read to wait for the lock", 10*time.Second, func() bool {
			var n int
			_ = db.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
				AND wait_event_type = 'Lock' AND query LIKE '%rm_users%'`).Scan(&n)
			return n > 0
		})
		cut()
		select {
		case resp := <-answered:
			checkUnavailable(t, what, resp)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no answer within 10s", what)
		}
	}
	cutUnder("a read whose connection the server terminates", func() {
		if _, err := db.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
	})
	cutUnder("a read whose connection is lost", proxy.cut)

	// The database away: every route that needs it says so.
	for _, r := range []struct{ method, path, token string }{
		{"GET", users, admin},
		{"POST", users, admin},
		{"GET", "/v1/accounts/" + accountID + "/webhooks", admin},
		{"GET", "/v1/feed?follow=false", admin},
		{"GET", "/v1/feed", admin},
		{"GET", "/v1/feed?follow=false", op},
		{"GET", "/v1/audit/streams/account-" + accountID, op},
		{"GET", "/v1/audit/streams/account-" + accountID + "/as-of?revision=0", op},
	} {
		var body io.Reader
		if r.method == "POST" {
			b, _ := json.Marshal(invite("away@northwind.example", "account_viewer"))
			body = strings.NewReader(string(b))
		}
		req, _ := http.NewRequest(r.method, h.url+r.path, body)
		req.Header.Set("Authorization", "Bearer "+r.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		checkUnavailable(t, r.method+" "+r.path+" with the database away", resp)
	}
	waitFor(t, "/readyz to say not ready", 10*time.Second, func() bool {
		code, _ := h.call("GET", "/readyz", "", nil)
		return code == http.StatusServiceUnavailable
	})

	// Back: ready again, and commands and reads served as before.
	proxy.restore()
	waitFor(t, "/readyz to say ready again", 20*time.Second, func() bool {
		code, _ := h.call("GET", "/readyz", "", nil)
		return code == http.StatusOK
	})
	inv := h.must(http.StatusCreated, "POST", users, admin, invite("back@northwind.example", "account_viewer"))
	h.must(http.StatusOK, "GET", users+"/"+inv["userId"].(string)+"?after="+inv["position"].(string), admin, nil)
}

// checkUnavailable fails unless resp is a 503 problem with Retry-After.
func checkUnavailable(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("%s: %d (%s) Retry-After %q %s, want 503 with Retry-After", what, resp.StatusCode, resp.Status, resp.Header.Get("Retry-After"), raw)
		return
	}
	if err := problemIfError(resp.StatusCode, resp.Header.Get("Content-Type"), raw); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}
