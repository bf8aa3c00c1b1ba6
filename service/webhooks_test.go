package service_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/webhooks"
)

// hookServer is an HTTPS endpoint that fails its first `failing` calls
// (all when failing < 0) and checks and keeps what it receives after.
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	failing  int
	attempts int
	got      []integration.Event
	bad      []string
	signed   []signed
}

// signed is a delivery as received: what a receiver checks.
type signed struct {
	at     time.Time
	body   []byte
	header string
}

func newHookServer(t *testing.T, failing int) *hookServer {
	s := &hookServer{failing: failing}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.attempts++
		if s.failing != 0 {
			s.failing--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		ts, _ := strconv.ParseInt(r.Header.Get(webhooks.HeaderTimestamp), 10, 64)
		at := time.Unix(ts, 0)
		var e integration.Event
		switch {
		case time.Since(at) > 5*time.Minute || time.Until(at) > time.Minute:
			s.bad = append(s.bad, "stale timestamp")
		case !webhooks.Verify(s.secret, at, body, r.Header.Get(webhooks.HeaderSignature)):
			s.bad = append(s.bad, "bad signature")
		case json.Unmarshal(body, &e) != nil || integration.Validate(body) != nil:
			s.bad = append(s.bad, "not a valid integration event: "+string(body))
		case r.Header.Get(webhooks.HeaderID) != e.ID:
			s.bad = append(s.bad, "Webhook-Id is not the event id")
		}
		s.got = append(s.got, e)
		s.signed = append(s.signed, signed{at, body, r.Header.Get(webhooks.HeaderSignature)})
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hookServer) state() (attempts int, got []integration.Event, bad []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts, append([]integration.Event{}, s.got...), append([]string{}, s.bad...)
}

// eventually polls cond for up to 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("within 10s: %s", what)
		}
	}
}

func (h *harness) webhook(account, admin string, id string) map[string]any {
	for _, it := range h.must(http.StatusOK, "GET", "/v1/accounts/"+account+"/webhooks", admin, nil)["items"].([]any) {
		if w := it.(map[string]any); w["webhookId"] == id {
			return w
		}
	}
	h.t.Fatalf("webhook %s not listed", id)
	return nil
}

func TestWebhooks_deliver_signed_events_retrying_with_backoff(t *testing.T) {
	h := start(t, options{privateWebhooks: true})
	account, admin := h.registered()
	// An endpoint gets the events from its creation on, the same instant
	// included: on a clock that stood still, the manager's invitation
	// would be delivered too whenever the dispatcher came to it after the
	// endpoint was made.
	h.clock.Advance(time.Second)
	hook := newHookServer(t, 2)
	h.svc.Webhooks.Configure(webhooks.Settings{Client: hook.Client(), Backoff: 20 * time.Millisecond, PauseAfter: 5, Poll: 20 * time.Millisecond})
	path := "/v1/accounts/" + account + "/webhooks"
	h.must(http.StatusBadRequest, "POST", path, admin, map[string]any{"url": "http://plain.example/hook"})
	reg := h.must(http.StatusCreated, "POST", path, admin, map[string]any{"url": hook.URL + "/hook", "types": []string{"bizcenter.user.invited.v1"}})
	hook.mu.Lock()
	hook.secret = reg["secret"].(string)
	hook.mu.Unlock()

	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/users", admin, invite("hooked@northwind.example", "account_viewer"))
	eventually(t, "one delivery after two failures", func() bool { _, got, _ := hook.state(); return len(got) == 1 })
	attempts, got, bad := hook.state()
	if len(bad) > 0 || attempts != 3 || got[0].Type != "bizcenter.user.invited.v1" || got[0].AccountID != account {
		t.Fatalf("attempts %d, got %+v, problems %v", attempts, got, bad)
	}
	// The endpoint has its answer before the dispatcher records it.
	var w map[string]any
	eventually(t, "the delivery recorded", func() bool {
		w = h.webhook(account, admin, reg["webhookId"].(string))
		return w["lastStatus"] == float64(200) && w["pending"] == float64(0)
	})
	if w["consecutiveFailures"] != float64(0) || w["state"] != "active" || w["secret"] != nil {
		t.Fatalf("webhook after delivery: %v", w)
	}
}

func TestWebhooks_an_endpoint_that_keeps_failing_is_paused_until_resumed(t *testing.T) {
	h := start(t, options{privateWebhooks: true})
	account, admin := h.registered()
	h.clock.Advance(time.Second) // the registration's events come before the endpoint (see above)
	hook := newHookServer(t, -1)
	h.svc.Webhooks.Configure(webhooks.Settings{Client: hook.Client(), Backoff: 10 * time.Millisecond, PauseAfter: 3, Poll: 20 * time.Millisecond})
	path := "/v1/accounts/" + account + "/webhooks"
	reg := h.must(http.StatusCreated, "POST", path, admin, map[string]any{"url": hook.URL + "/hook"})
	hook.mu.Lock()
	hook.secret = reg["secret"].(string)
	hook.mu.Unlock()
	id := reg["webhookId"].(string)

	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/users", admin, invite("first@northwind.example", "account_viewer"))
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/users", admin, invite("second@northwind.example", "account_viewer"))
	eventually(t, "the endpoint paused", func() bool { return h.webhook(account, admin, id)["state"] == "paused" })
	time.Sleep(200 * time.Millisecond) // a paused endpoint is not tried again
	w := h.webhook(account, admin, id)
	if attempts, _, _ := hook.state(); attempts != 3 || w["consecutiveFailures"] != float64(3) || w["lastStatus"] != float64(500) || w["pausedAt"] == nil {
		t.Fatalf("after pausing: %d attempts, webhook %v", attempts, w)
	}

	hook.mu.Lock()
	hook.failing = 0
	hook.mu.Unlock()
	h.must(http.StatusOK, "POST", path+"/"+id+"/resume", admin, nil)
	eventually(t, "every pending event delivered after resuming", func() bool { return h.webhook(account, admin, id)["pending"] == float64(0) })
	_, got, bad := hook.state()
	if len(bad) > 0 || len(got) < 2 {
		t.Fatalf("after resuming: got %d, problems %v", len(got), bad)
	}
	// In log order: the two invitations' events come in the order appended.
	invited := 0
	for _, e := range got {
		if e.Type == "bizcenter.user.invited.v1" {
			invited++
		}
	}
	if invited != 2 {
		t.Fatalf("%d invitations delivered, want 2", invited)
	}
	h.must(http.StatusOK, "DELETE", path+"/"+id, admin, nil)
	h.must(http.StatusNotFound, "DELETE", path+"/"+id, admin, nil)
}

// A rotated secret goes on signing deliveries beside the new one for the
// time asked (a receiver switches over without refusing any), then stops.
func TestWebhooks_a_rotated_secret_signs_beside_the_new_one_until_it_ends(t *testing.T) {
	h := start(t, options{privateWebhooks: true})
	account, admin := h.registered()
	h.clock.Advance(time.Second) // the registration's events come before the endpoint (see above)
	hook := newHookServer(t, 0)
	h.svc.Webhooks.Configure(webhooks.Settings{Client: hook.Client(), Poll: 20 * time.Millisecond})
	path := "/v1/accounts/" + account + "/webhooks"
	reg := h.must(http.StatusCreated, "POST", path, admin, map[string]any{"url": hook.URL + "/hook", "types": []string{"bizcenter.user.invited.v1"}})
	id, first := reg["webhookId"].(string), reg["secret"].(string)
	hook.mu.Lock()
	hook.secret = first // the receiver has not switched yet
	hook.mu.Unlock()

	rotate := path + "/" + id + "/secret"
	h.must(http.StatusBadRequest, "POST", rotate, admin, map[string]any{"previousValidSeconds": -1})
	h.must(http.StatusNotFound, "POST", path+"/"+uuid.NewString()+"/secret", admin, nil)
	rotated := h.must(http.StatusOK, "POST", rotate, admin, nil)
	second := rotated["secret"].(string)
	if second == first || rotated["previousSecretExpiresAt"] == nil {
		t.Fatalf("rotation answered %v", rotated)
	}
	delivered := func(n int) signed {
		t.Helper()
		eventually(t, "a delivery", func() bool { _, got, _ := hook.state(); return len(got) == n })
		hook.mu.Lock()
		defer hook.mu.Unlock()
		if len(hook.bad) > 0 {
			t.Fatalf("problems %v", hook.bad)
		}
		return hook.signed[n-1]
	}
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/users", admin, invite("rotated.one@northwind.example", "account_viewer"))
	if d := delivered(1); !webhooks.Verify(second, d.at, d.body, d.header) || len(strings.Fields(d.header)) != 2 {
		t.Fatalf("during the overlap: %q, want signatures with both secrets", d.header)
	}

	hook.mu.Lock()
	hook.secret = second
	hook.mu.Unlock()
	third := h.must(http.StatusOK, "POST", rotate, admin, map[string]any{"previousValidSeconds": 0})["secret"].(string)
	hook.mu.Lock()
	hook.secret = third
	hook.mu.Unlock()
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/users", admin, invite("rotated.two@northwind.example", "account_viewer"))
	if d := delivered(2); webhooks.Verify(second, d.at, d.body, d.header) || len(strings.Fields(d.header)) != 1 {
		t.Fatalf("after a rotation ending the previous secret at once: %q", d.header)
	}
	if w := h.webhook(account, admin, id); w["previousSecretExpiresAt"] != nil || w["secret"] != nil {
		t.Fatalf("listed as %v", w)
	}

	// The body may be left out however it is sent: empty and chunked too.
	pr, pw := io.Pipe()
	go func() { time.Sleep(300 * time.Millisecond); pw.Close() }() // the client gives up waiting: chunked
	req, _ := http.NewRequest(http.MethodPost, h.url+rotate, pr)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a rotation with an empty chunked body: %d %s", resp.StatusCode, b)
	}
	op := h.must(http.StatusOK, "GET", "/v1/openapi.json", "", nil)["paths"].(map[string]any)["/v1/accounts/{accountId}/webhooks/{webhookId}/secret"]
	if rb := op.(map[string]any)["post"].(map[string]any)["requestBody"].(map[string]any); rb["required"] != false {
		t.Fatalf("the OpenAPI document requires the rotation's body: %v", rb)
	}
}

// An account's webhooks come a page at a time, in the order they were
// registered, as every list.
func TestWebhooks_list_pages(t *testing.T) {
	h := start(t, options{})
	account, admin := h.registered()
	path := "/v1/accounts/" + account + "/webhooks"
	var ids []string
	for i := range 3 {
		url := fmt.Sprintf("https://hooks%d.example/bizcenter", i)
		h.clock.Advance(time.Second)
		ids = append(ids, h.must(http.StatusCreated, "POST", path, admin, map[string]any{"url": url})["webhookId"].(string))
	}
	var seen []string
	cursor := ""
	for pages := 0; pages < 3; pages++ {
		page := h.must(http.StatusOK, "GET", path+"?limit=2"+cursor, admin, nil)
		for _, it := range page["items"].([]any) {
			seen = append(seen, it.(map[string]any)["webhookId"].(string))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = "&cursor=" + next
	}
	if !slices.Equal(seen, ids) {
		t.Fatalf("pages of 2 listed %v, want %v", seen, ids)
	}
	// A cursor pages its own account's list: in another's it went on
	// after its key, leaving out the endpoints before it.
	op := h.token("op-1", "ops@bizcenter.example", true)
	other := h.must(http.StatusCreated, "POST", "/v1/accounts", op, map[string]any{
		"name": "Other", "agreementNumber": "AG-78", "purchaseAccountNumber": "PA-78",
		"manager": map[string]any{"email": "pam@other.example", "firstName": "Pam", "lastName": "Other", "language": "en-US", "country": "US"},
	})["accountId"].(string)
	first := h.must(http.StatusOK, "GET", path+"?limit=1", admin, nil)["nextCursor"].(string)
	if code, body := h.call("GET", "/v1/accounts/"+other+"/webhooks?cursor="+first, op, nil); code != http.StatusBadRequest || !namesField(body, "cursor") {
		t.Errorf("another account's cursor: %d %v", code, body)
	}
	// The release before named no account in its cursors: an older
	// instance's nextCursor goes on at a newer one (a rolling deploy).
	before := cursorBefore(t, first, &struct {
		T  time.Time `json:"t"`
		ID string    `json:"id"`
	}{})
	if rest := h.must(http.StatusOK, "GET", path+"?cursor="+before, admin, nil)["items"].([]any); len(rest) != 2 {
		t.Errorf("the release before's cursor listed %v, want the last 2", rest)
	}
	for _, q := range []string{"?limit=0", "?limit=abc", "?cursor=nope"} {
		code, body := h.call("GET", path+q, admin, nil)
		field := strings.Split(strings.TrimPrefix(q, "?"), "=")[0]
		if code != http.StatusBadRequest || !namesField(body, field) {
			t.Errorf("GET %s: %d %v", q, code, body)
		}
	}
}

// A registration answers createdAt as a read gives it back: PostgreSQL
// keeps microseconds, so the answer has no nanoseconds either.
func TestWebhooks_registration_answers_createdAt_as_stored(t *testing.T) {
	h := start(t, options{})
	account, admin := h.registered()
	path := "/v1/accounts/" + account + "/webhooks"
	h.clock.Advance(time.Second + 123456789*time.Nanosecond)
	made := h.must(http.StatusCreated, "POST", path, admin, map[string]any{"url": "https://hooks.example/bizcenter"})
	listed := h.must(http.StatusOK, "GET", path, admin, nil)["items"].([]any)
	if len(listed) != 1 || listed[0].(map[string]any)["createdAt"] != made["createdAt"] {
		t.Fatalf("POST answered createdAt %v, GET %v", made["createdAt"], listed)
	}
}

// A webhook to an address off the public internet is refused when it is
// registered, naming the url, and nothing is kept; an operator who allows
// them (BIZCENTER_WEBHOOKS_ALLOW_PRIVATE) may register one.
func TestWebhooks_registration_refuses_private_addresses(t *testing.T) {
	h := start(t, options{})
	account, admin := h.registered()
	path := "/v1/accounts/" + account + "/webhooks"
	for _, url := range []string{"https://127.0.0.1:8443/hook", "https://10.1.2.3/hook", "https://169.254.169.254/latest",
		"https://[::1]/hook", "https://[fd00::1]/hook", "https://localhost/hook", "https://intranet/hook"} {
		if code, body := h.call("POST", path, admin, map[string]any{"url": url}); code != http.StatusBadRequest || !namesField(body, "url") {
			t.Errorf("%s: %d %v", url, code, body)
		}
	}
	if items := h.must(http.StatusOK, "GET", path, admin, nil)["items"].([]any); len(items) != 0 {
		t.Fatalf("kept: %v", items)
	}
	allowed := start(t, options{privateWebhooks: true})
	account, admin = allowed.registered()
	allowed.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/webhooks", admin, map[string]any{"url": "https://127.0.0.1:8443/hook"})
}

// A type listed twice is refused, naming types: the endpoint would get
// each of its events once anyway, and the list would read otherwise. So
// is a partner organization's type, which names no account: the
// endpoint would never get one.
func TestWebhooks_registration_refuses_a_type_listed_twice_or_never_sent(t *testing.T) {
	h := start(t, options{})
	account, admin := h.registered()
	for _, types := range [][]string{
		{"bizcenter.user.invited.v1", "bizcenter.user.invited.v1"},
		{"bizcenter.user.invited.v1", "bizcenter.partner.user_personal_data_erased.v1"},
	} {
		code, body := h.call("POST", "/v1/accounts/"+account+"/webhooks", admin, map[string]any{"url": "https://hooks.example.com/x", "types": types})
		if code != http.StatusBadRequest || !namesField(body, "types") {
			t.Errorf("%v: %d %v, want 400 naming types", types, code, body)
		}
	}
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+account+"/webhooks", admin, map[string]any{"url": "https://hooks.example.com/x",
		"types": []string{"bizcenter.account.partner_associated.v1"}})
}

// The webhook routes decide who may manage an account's webhooks from the
// events, as every command does, not from the users read model: a
// registration sends the account's events where its caller says, so an
// Account Administrator demoted a moment ago (the demotion answered)
// registers nothing however far behind that read model is, and one just
// made an administrator registers at once. The read model is held behind
// by a lock that lets it be read but not written.
func TestWebhooks_rights_follow_the_events_not_the_users_read_model(t *testing.T) {
	h := start(t, options{})
	account, admin := h.registered()
	path := "/v1/accounts/" + account + "/webhooks"
	demoted, demotedToken := h.member(account, admin, "dana@northwind.example", "account_administrator")
	promoted, promotedToken := h.member(account, admin, "pia@northwind.example", "reports_viewer")

	ctx := context.Background()
	tx, err := h.svc.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `LOCK TABLE rm_users IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	users := "/v1/accounts/" + account + "/users/"
	h.must(http.StatusOK, "PUT", users+demoted+"/roles", admin, map[string]any{"roles": []string{"reports_viewer"}})
	h.must(http.StatusOK, "PUT", users+promoted+"/roles", admin, map[string]any{"roles": []string{"account_administrator"}})

	if code, body := h.call("POST", path, demotedToken, map[string]any{"url": "https://hooks.example/demoted"}); code != http.StatusForbidden {
		t.Errorf("a demoted administrator registering: %d %v, want 403", code, body)
	}
	if code, body := h.call("POST", path, promotedToken, map[string]any{"url": "https://hooks.example/promoted"}); code != http.StatusCreated {
		t.Errorf("a new administrator registering: %d %v, want 201", code, body)
	}
	outsider := h.token("sub-olga", "olga@elsewhere.example", false)
	if code, body := h.call("POST", path, outsider, map[string]any{"url": "https://hooks.example/outsider"}); code != http.StatusNotFound {
		t.Errorf("someone of no account registering: %d %v, want 404", code, body)
	}
	// Operators manage every account's webhooks, but only of accounts
	// there are: an endpoint of an account that does not exist would wait
	// for events that never come.
	op := h.token("op-1", "ops@bizcenter.example", true)
	nowhere := "/v1/accounts/" + uuid.NewString() + "/webhooks"
	if code, body := h.call("POST", nowhere, op, map[string]any{"url": "https://hooks.example/nowhere"}); code != http.StatusNotFound {
		t.Errorf("an operator registering for no account: %d %v, want 404", code, body)
	}
	if code, body := h.call("GET", nowhere, op, nil); code != http.StatusNotFound {
		t.Errorf("an operator listing the webhooks of no account: %d %v, want 404", code, body)
	}
	h.must(http.StatusCreated, "POST", path, op, map[string]any{"url": "https://hooks.example/operator"})
}

// cursorBefore is cursor c as the release before wrote it: only the
// fields of key, in key's order (base64url JSON, as kit.EncodeCursor).
func cursorBefore(t *testing.T, c string, key any) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		err = json.Unmarshal(b, key)
	}
	if err != nil {
		t.Fatalf("cursor %q: %v", c, err)
	}
	b, _ = json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(b)
}
