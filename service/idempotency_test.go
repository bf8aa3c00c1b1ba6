package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	userdomain "github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/service"
)

// keyedAnswer is an answer to a request with an Idempotency-Key.
type keyedAnswer struct {
	status   int
	replayed bool
	body     string
}

// keyedCall sends a request with an Idempotency-Key to the service at base.
func (h *harness) keyedCall(base, method, path, token, key string, body any) keyedAnswer {
	h.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return keyedAnswer{resp.StatusCode, resp.Header.Get("Idempotent-Replayed") == "true", string(raw)}
}

func (h *harness) keyedEventCount() int {
	h.t.Helper()
	var n int
	if err := h.svc.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// restarted starts another service on the same database, as a restart
// would, and returns its URL.
func (h *harness) restarted() string {
	h.t.Helper()
	svc, err := service.New(context.Background(), service.Config{
		DatabaseURL: h.svc.Pool().Config().ConnString(), JWTSecret: jwtSecret, InvitationKey: []byte("e2e invitation key"),
		Clock: h.clock, Mail: mailer.FileSender{Dir: h.mailDir}, MailFrom: "bizcenter@test.example",
		PublicURL: "http://bizcenter.test", Log: discardLog(), SweepInterval: time.Hour,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	h.t.Cleanup(func() { srv.Close(); svc.Close() })
	return srv.URL
}

func TestIdempotency_a_repeat_replays_the_answer_and_appends_nothing(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	first := h.keyedCall(h.url, "POST", users, admin, "invite-1", invite("keyed@northwind.example", "reports_viewer"))
	if first.status != http.StatusCreated || first.replayed {
		t.Fatalf("first: %+v", first)
	}
	events := h.keyedEventCount()
	again := h.keyedCall(h.url, "POST", users, admin, "invite-1", invite("keyed@northwind.example", "reports_viewer"))
	if again.status != first.status || again.body != first.body || !again.replayed {
		t.Fatalf("again: %+v, first %+v", again, first)
	}
	// The key lives in PostgreSQL: another process (a restart) replays it.
	if after := h.keyedCall(h.restarted(), "POST", users, admin, "invite-1", invite("keyed@northwind.example", "reports_viewer")); after.body != first.body || !after.replayed {
		t.Fatalf("after a restart: %+v", after)
	}
	if n := h.keyedEventCount(); n != events {
		t.Fatalf("repeats appended %d events", n-events)
	}
	other := h.keyedCall(h.url, "POST", users, admin, "invite-1", invite("other@northwind.example", "reports_viewer"))
	if other.status != http.StatusUnprocessableEntity || !strings.Contains(other.body, "idempotency-key-reused") {
		t.Fatalf("another body: %+v", other)
	}
	bad := h.keyedCall(h.url, "POST", users, admin, strings.Repeat("x", 256), invite("bad@northwind.example", "reports_viewer"))
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "Idempotency-Key") {
		t.Fatalf("a bad key: %+v", bad)
	}
	if n := h.keyedEventCount(); n != events {
		t.Fatalf("refused requests appended %d events", n-events)
	}
}

// An invitation refused as written (400) keeps nothing under its key: the
// administrator corrects the email and sends it with the same key.
func TestIdempotency_a_refused_body_can_be_corrected_under_the_same_key(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	events := h.keyedEventCount()
	bad := h.keyedCall(h.url, "POST", users, admin, "fix-1", invite("fixed@northwind", "reports_viewer"))
	if bad.status != http.StatusBadRequest || bad.replayed {
		t.Fatalf("the mistyped one: %+v", bad)
	}
	fixed := h.keyedCall(h.url, "POST", users, admin, "fix-1", invite("fixed@northwind.example", "reports_viewer"))
	if fixed.status != http.StatusCreated || fixed.replayed {
		t.Fatalf("corrected under the same key: %+v", fixed)
	}
	if again := h.keyedCall(h.url, "POST", users, admin, "fix-1", invite("fixed@northwind.example", "reports_viewer")); !again.replayed || again.body != fixed.body {
		t.Fatalf("the corrected one again: %+v", again)
	}
	// A decision is kept: the same email again is a 409, replayed.
	dup := h.keyedCall(h.url, "POST", users, admin, "fix-2", invite("fixed@northwind.example", "reports_viewer"))
	if again := h.keyedCall(h.url, "POST", users, admin, "fix-2", invite("fixed@northwind.example", "reports_viewer")); dup.status != http.StatusConflict || !again.replayed {
		t.Fatalf("a conflict: %+v, again %+v", dup, again)
	}
	if n := h.keyedEventCount(); n == events {
		t.Fatal("the corrected invitation appended nothing")
	}
}

func TestIdempotency_concurrent_requests_with_one_key_run_once(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	events := h.keyedEventCount()
	const n = 10
	answers := make(chan keyedAnswer, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers <- h.keyedCall(h.url, "PUT", "/v1/accounts/"+accountID+"/domains/northwind.example", admin, "domain-1", nil)
		}()
	}
	wg.Wait()
	close(answers)
	ran, body := 0, ""
	for a := range answers {
		switch {
		case a.status == http.StatusOK && !a.replayed:
			ran++
			body = a.body
		case a.status == http.StatusOK, a.status == http.StatusConflict && strings.Contains(a.body, "idempotency-key-in-progress"):
		default:
			t.Fatalf("unexpected answer %+v", a)
		}
	}
	if ran != 1 {
		t.Fatalf("%d requests ran", ran)
	}
	if replay := h.keyedCall(h.url, "PUT", "/v1/accounts/"+accountID+"/domains/northwind.example", admin, "domain-1", nil); replay.body != body {
		t.Fatalf("replay %+v, want %s", replay, body)
	}
	if added := h.keyedEventCount() - events; added != 2 { // the claim and the account's domain_added
		t.Fatalf("%d events appended", added)
	}
}

// A key counts as new once it expired: another request with it runs as
// its own, with ids of its own. (With the first request's ids, it answered
// 201 with the first request's entity, even of another account, and did
// nothing.)
func TestIdempotency_another_request_with_an_expired_key_runs_as_its_own(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	a, _ := h.registered()
	b := h.must(http.StatusCreated, "POST", "/v1/accounts", op, registration("b"))["accountId"].(string)
	expire := func() {
		t.Helper()
		if _, err := h.svc.Pool().Exec(context.Background(), `UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`); err != nil {
			t.Fatal(err)
		}
	}
	created := func(a keyedAnswer, id string) (string, string) {
		t.Helper()
		var out map[string]string
		if a.status != http.StatusCreated || a.replayed || json.Unmarshal([]byte(a.body), &out) != nil {
			t.Fatalf("%+v", a)
		}
		return out[id], out["position"]
	}

	first, _ := created(h.keyedCall(h.url, "POST", "/v1/accounts/"+a+"/billing-profiles", op, "k-1", map[string]any{"name": "First"}), "billingProfileId")
	expire()
	second, at := created(h.keyedCall(h.url, "POST", "/v1/accounts/"+b+"/billing-profiles", op, "k-1", map[string]any{"name": "Second"}), "billingProfileId")
	if second == first {
		t.Fatalf("the second profile has the first's id %s", first)
	}
	if items := h.must(http.StatusOK, "GET", "/v1/accounts/"+b+"/billing-profiles?after="+at, op, nil)["items"].([]any); len(items) != 1 ||
		items[0].(map[string]any)["name"] != "Second" {
		t.Fatalf("profiles of the second account: %v", items)
	}

	users := "/v1/accounts/" + a + "/users"
	first, _ = created(h.keyedCall(h.url, "POST", users, op, "k-2", invite("one@northwind.example", "account_viewer")), "userId")
	expire()
	second, at = created(h.keyedCall(h.url, "POST", users, op, "k-2", invite("two@northwind.example", "account_viewer")), "userId")
	if second == first {
		t.Fatalf("the second invitation answered the first's user %s", first)
	}
	if got := h.must(http.StatusOK, "GET", users+"/"+second+"?after="+at, op, nil)["email"]; got != "two@northwind.example" {
		t.Fatalf("the second user's email: %v", got)
	}
}

// A process that appended and died before keeping the answer leaves the
// key to be run again: the command, run again with the same key, finds its
// own work and answers as the first run did.
func TestIdempotency_a_command_run_again_after_a_lost_answer_answers_the_same(t *testing.T) {
	h := start(t, options{})
	accountID, _ := h.registered()
	account := uuid.MustParse(accountID)
	admin := commands.Actor{Subject: "nora", Email: managerEmail}
	key := func(name string) context.Context {
		return commands.WithIdempotencyKey(context.Background(), "nora\x00test\x00"+name)
	}
	invited, err := h.svc.Commands.InviteUser.Handle(key("invite"), commands.InviteUser{By: admin, AccountID: account, Profile: userdomain.Profile{
		Email: "lost@northwind.example", FirstName: "Lo", LastName: "St", Language: "en-US", Country: "US", Roles: []string{"account_administrator"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]func() (any, error){
		"invite": func() (any, error) {
			return h.svc.Commands.InviteUser.Handle(key("invite"), commands.InviteUser{By: admin, AccountID: account, Profile: userdomain.Profile{
				Email: "lost@northwind.example", FirstName: "Lo", LastName: "St", Language: "en-US", Country: "US", Roles: []string{"account_administrator"},
			}})
		},
		"resend": func() (any, error) {
			return h.svc.Commands.ResendInvitation.Handle(key("resend"), commands.ResendInvitation{By: admin, AccountID: account, UserID: invited.UserID})
		},
		"roles": func() (any, error) {
			return h.svc.Commands.ChangeUserRoles.Handle(key("roles"), commands.ChangeUserRoles{By: admin, AccountID: account, UserID: invited.UserID, Roles: []string{"reports_viewer"}})
		},
		"domain": func() (any, error) {
			return h.svc.Commands.ChangeDomain.Handle(key("domain"), commands.ChangeDomain{By: admin, AccountID: account, Domain: "northwind.example"})
		},
	}
	for _, name := range []string{"invite", "resend", "roles", "domain"} {
		first, err := runs[name]()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		events := h.keyedEventCount()
		h.clock.Advance(time.Minute)
		again, err := runs[name]()
		if err != nil || !reflect.DeepEqual(again, first) {
			t.Fatalf("%s again: %+v, %v; first %+v", name, again, err, first)
		}
		if n := h.keyedEventCount(); n != events {
			t.Fatalf("%s again appended %d events", name, n-events)
		}
	}
}

// The same request again with an expired key counts as new, and runs: a
// global admin assigned bo with a key, bo was unassigned since, and a day
// later the same assignment with the same key assigns bo again. (The ids
// derived from the key and the request alone: the run found the first
// run's events, answered 201 "active" with their old position, and
// assigned nobody.) A retry while the key is kept still replays.
func TestIdempotency_the_same_request_with_an_expired_key_runs_again(t *testing.T) {
	h := start(t, options{})
	partnerID, admin := h.partner("Alpha", "ann@alpha.example")
	bo, _ := h.partnerMember(partnerID, admin, "bo@alpha.example", "sales_agent")
	p := h.buyPack(partnerID, admin)
	vs := p.benefits["visual_studio"] + "/assignees"
	assign := map[string]any{"userId": bo}
	first := h.keyedCall(h.url, "POST", vs, admin, "assign-bo", assign)
	if first.status != http.StatusCreated || first.replayed {
		t.Fatalf("first: %+v", first)
	}
	if again := h.keyedCall(h.url, "POST", vs, admin, "assign-bo", assign); !again.replayed || again.body != first.body {
		t.Fatalf("while kept: %+v", again)
	}
	h.must(http.StatusOK, "DELETE", vs+"/"+bo, admin, nil)
	if _, err := h.svc.Pool().Exec(context.Background(), `UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(25 * time.Hour)
	later := h.keyedCall(h.url, "POST", vs, admin, "assign-bo", assign)
	var out map[string]string
	if later.status != http.StatusCreated || later.replayed || json.Unmarshal([]byte(later.body), &out) != nil {
		t.Fatalf("a day later: %+v", later)
	}
	b := h.benefitOf(partnerID, admin, "visual_studio", "Visual Studio Enterprise", out["position"])
	if holders := b["assignees"].([]any); len(holders) != 1 || holders[0].(map[string]any)["userId"] != bo || later.body == first.body {
		t.Fatalf("a day later %s answered (first %s), and the holders are %v", later.body, first.body, holders)
	}
}
