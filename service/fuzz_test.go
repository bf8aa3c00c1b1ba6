package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/service"
)

// The fuzz targets send arbitrary bytes as the body of each command route
// that takes one. `go test` runs them over their seeds and the inputs saved
// under testdata/fuzz; `make test` then fuzzes each briefly.

const manager = `{"email":"m@acme.example","firstName":"Mia","lastName":"Acme","language":"en-US","country":"US"}`

func FuzzRegisterAccount(f *testing.F) {
	fuzzBody(f, []string{
		`{"name":"Acme","agreementNumber":"AG-1","purchaseAccountNumber":"PA-1","manager":` + manager + `}`,
		`{"name":"Acme\u0001","agreementNumber":"AG-2","purchaseAccountNumber":"PA-2","manager":` + manager + `}`,
		`{"name":" ","agreementNumber":"AG 3","purchaseAccountNumber":"-","manager":{"email":"Mia <m@acme.example>"}}`,
		`{"name":"Acme","agreementNumber":"AG-4","purchaseAccountNumber":"PA-4","manager":[]}`,
		`{"name":"Acme","agreementNumber":4,"purchaseAccountNumber":"PA-4","manager":null,"extra":true}`,
		`{"name":"\ud800","agreementNumber":"AG-5","purchaseAccountNumber":"PA-5","manager":{"email":"m@acme","language":"xx-","country":"us"}}`,
		`null`, `[]`, `{}`, `""`, `{"name":"Acme"`, "\xff\xfe{}",
	}, func(h *harness) fuzzRoute {
		return fuzzRoute{method: "POST", path: "/v1/accounts", token: h.token("op-1", "ops@bizcenter.example", true)}
	})
}

func FuzzInviteUser(f *testing.F) {
	fuzzBody(f, []string{
		`{"email":"ann@northwind.example","firstName":"Ann","lastName":"Lee","language":"ko-KR","country":"KR","roles":["account_viewer"]}`,
		`{"email":"ann@northwind.example","firstName":"Ann","lastName":"Lee","language":"ko-KR","country":"KR","roles":["account_administrator","reports_viewer","account_administrator"]}`,
		`{"email":"` + managerEmail + `","firstName":"N","lastName":"W","language":"en","country":"US","roles":["account_viewer"]}`,
		`{"email":"bo@northwind.example","firstName":"B\u0001o","lastName":"\u2028","language":"zh-Hant-TW","country":"tw","roles":["reports_viewer"]}`,
		`{"email":"x","firstName":"","lastName":"` + strings.Repeat("x", 101) + `","language":"e","country":"ZZ","roles":["emperor"]}`,
		`{"email":"cy@northwind.example","roles":"account_viewer"}`,
		`{"email":"cy@northwind.example","roles":[null,1,{}]}`,
		`{"emial":"cy@northwind.example"}`,
		`null`, `{}`, `{"email":`, `{"roles":[]}{}`,
	}, func(h *harness) fuzzRoute {
		accountID, admin := h.registered()
		return fuzzRoute{method: "POST", path: "/v1/accounts/" + accountID + "/users", token: admin}
	})
}

func FuzzChangeUserRoles(f *testing.F) {
	fuzzBody(f, []string{
		`{"roles":["reports_viewer"]}`, `{"roles":["account_manager","reports_viewer"]}`,
		`{"roles":["account_administrator"]}`, `{"roles":["account_viewer","account_viewer"]}`,
		`{"roles":[]}`, `{"roles":null}`, `{"roles":"account_viewer"}`, `{"roles":["emperor"]}`,
		`{"roles":[1]}`, `{"roles":["reports_viewer"],"by":"root"}`, `[]`, ``,
	}, func(h *harness) fuzzRoute {
		accountID, admin := h.registered()
		users := "/v1/accounts/" + accountID + "/users"
		user := h.must(http.StatusCreated, "POST", users, admin, invite("target@northwind.example", "account_viewer"))["userId"].(string)
		return fuzzRoute{method: "PUT", path: users + "/" + user + "/roles", token: admin}
	})
}

func FuzzAcceptInvitation(f *testing.F) {
	fuzzBody(f, []string{
		`{"token":"$token"}`, `{"token":"$token","again":true}`, `{"token":"$token$token"}`,
		`{"token":""}`, `{"token":"AAAA"}`, `{"token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`,
		`{"token":1}`, `{"token":null}`, `{"token":"\u0000"}`, `{}`, `"$token"`, ``,
	}, func(h *harness) fuzzRoute {
		accountID, admin := h.registered()
		h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("fuzz@northwind.example", "account_viewer"))
		return fuzzRoute{method: "POST", path: "/v1/invitations/accept", vars: map[string]string{"token": h.mailTokens("fuzz@northwind.example", 1)[0]}}
	})
}

func FuzzResendRequest(f *testing.F) {
	fuzzBody(f, []string{
		`{"email":"` + managerEmail + `","agreementNumber":"AG-77","purchaseAccountNumber":"PA-77"}`,
		`{"email":"` + managerEmail + `","agreementNumber":"AG-77","purchaseAccountNumber":"PA-0"}`,
		`{"email":"\u0000","agreementNumber":"AG-77\u0000","purchaseAccountNumber":"` + strings.Repeat("9", 321) + `"}`,
		`{"email":""}`, `{"email":1}`, `{"email":"a@b.example","agreementNumber":"x","purchaseAccountNumber":"y","z":0}`,
		`null`, `{}`, `{`,
	}, func(h *harness) fuzzRoute {
		h.registered()
		// The route answers 202 before the request is checked: what it
		// appends later is not this request's answer.
		return fuzzRoute{method: "POST", path: "/v1/invitations/resend-request", async: true}
	})
}

// fuzzClient gives up on an answer that hangs, which fails the input.
var fuzzClient = &http.Client{Timeout: 10 * time.Second}

// fuzzRoute is where a fuzz target sends its inputs.
type fuzzRoute struct {
	method, path, token string
	// vars replace "$name" in each input: values known once the fixture
	// exists, such as a valid invitation token.
	vars map[string]string
	// async: the route answers before anything is appended.
	async bool
}

// fuzzBody fuzzes the body of one route: no input gets a 5xx or an answer
// that is not JSON (a problem document for an error); what is not one JSON
// document is a 400; a refused input appends nothing; and what a command
// accepts, the read models can take (a read waiting for its position
// succeeds, and no projector parks an event). prepare builds the fixture once, with the first input.
func fuzzBody(f *testing.F, seeds []string, prepare func(h *harness) fuzzRoute) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	h := startFuzzing(f)
	var route *fuzzRoute
	var reader string
	prepared := false
	f.Fuzz(func(t *testing.T, body []byte) {
		h.t = t
		if !prepared {
			prepared = true
			r := prepare(h)
			route, reader = &r, h.token("op-reader", "reader@bizcenter.example", true)
		}
		if route == nil {
			t.Fatal("the fixture failed with an earlier input")
		}
		for name, v := range route.vars {
			body = bytes.ReplaceAll(body, []byte("$"+name), []byte(v))
		}
		before := h.eventCount()
		status, ctype, raw := roundTrip(t, fuzzClient, route.method, h.url+route.path, route.token, body)
		call := fmt.Sprintf("%s %s with %q answered %d", route.method, route.path, body, status)
		if !json.Valid(body) && status != http.StatusBadRequest {
			t.Fatalf("%s, but the body is not one JSON document: %s", call, raw)
		}
		switch {
		case status >= 500:
			t.Fatalf("%s: %s", call, raw)
		case status >= 400:
			if err := problemIfError(status, ctype, raw); err != nil {
				t.Fatalf("%s: %v", call, err)
			}
			if after := h.eventCount(); after != before && !route.async {
				t.Fatalf("%s and appended %d events: %s", call, after-before, raw)
			}
			return
		case !strings.HasPrefix(ctype, "application/json") || !json.Valid(raw):
			t.Fatalf("%s, not JSON: %s %q", call, ctype, raw)
		}
		var answer struct{ Position string }
		if json.Unmarshal(raw, &answer) != nil || answer.Position == "" {
			return
		}
		if code, out := h.call("GET", "/v1/me?after="+answer.Position, reader, nil); code != http.StatusOK {
			t.Fatalf("%s; then a read after %s answered %d: %v", call, answer.Position, code, out)
		}
		if parked := h.must(http.StatusOK, "GET", "/v1/admin/dead-letters", reader, nil)["items"].([]any); len(parked) > 0 {
			t.Fatalf("%s; then a projector parked %v", call, parked)
		}
	})
}

// eventCount is the number of events in the PostgreSQL store.
func (h *harness) eventCount() int64 {
	h.t.Helper()
	var n int64
	if err := h.svc.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// startFuzzing is start for a fuzz target, which has no *testing.T
// outside f.Fuzz (each input sets the harness's t to its own); it serves
// as the binary does.
func startFuzzing(f *testing.F) *harness {
	h := &harness{clock: clock.NewManual(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)), mailDir: f.TempDir()}
	svc, err := service.New(context.Background(), service.Config{
		DatabaseURL: pgtest.URL(f), JWTSecret: jwtSecret, InvitationKey: []byte("e2e invitation key"),
		Clock: h.clock, Mail: mailer.FileSender{Dir: h.mailDir}, MailFrom: "bizcenter@test.example",
		PublicURL: "http://bizcenter.test", Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SweepInterval: time.Hour,
	})
	if err != nil {
		f.Fatal(err)
	}
	h.svc, h.url = svc, serveAsTheBinary(f, svc)
	return h
}

// serveAsTheBinary runs svc.Serve, as `bizcenter serve` does, on a port of
// its own until the test ends, and returns its URL once the projections
// run. It closes svc at the end.
func serveAsTheBinary(tb testing.TB, svc *service.Service) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, l) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			tb.Error(err)
		}
		svc.Close()
	})
	select {
	case <-svc.ProjectionsRunning():
	case err := <-served:
		served <- err // for the cleanup
		tb.Fatalf("serve: %v", err)
	}
	return "http://" + l.Addr().String()
}

// roundTrip sends a body as it is and returns the status, the Content-Type
// and the body of the answer.
func roundTrip(tb testing.TB, c *http.Client, method, url, token string, body []byte) (int, string, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

// problemIfError checks that an error answer is a problem document of its
// status.
func problemIfError(status int, ctype string, raw []byte) error {
	if status < 400 {
		return nil
	}
	var p struct {
		Type, Title string
		Status      int
	}
	if !strings.HasPrefix(ctype, "application/problem+json") || json.Unmarshal(raw, &p) != nil || p.Status != status || p.Type == "" || p.Title == "" {
		return fmt.Errorf("a %d answer is not a problem document: %s %q", status, ctype, raw)
	}
	return nil
}
