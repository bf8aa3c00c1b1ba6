package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/httpapi"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

var secret = []byte("idempotency test secret, 32 bytes")

// keyed is a server whose one command route counts its runs and answers
// with the status the body asks for.
type keyed struct {
	t     *testing.T
	url   string
	pool  *pgxpool.Pool
	runs  atomic.Int32
	block chan struct{} // when set, a run waits for it to close
}

func newKeyed(t *testing.T, lease time.Duration) *keyed { return newKeyedOn(t, pgtest.Pool(t), lease) }

func newKeyedOn(t *testing.T, pool *pgxpool.Pool, lease time.Duration) *keyed {
	t.Helper()
	k := &keyed{t: t, pool: pool}
	command := func(w http.ResponseWriter, r *http.Request) {
		var b struct {
			Status int `json:"status"`
		}
		_ = json.NewDecoder(r.Body).Decode(&b)
		n := k.runs.Add(1)
		if k.block != nil {
			<-k.block
		}
		if b.Status >= 400 {
			kit.WriteProblem(w, kit.NewProblem(b.Status, "asked", "as asked"))
			return
		}
		kit.WriteJSON(w, http.StatusCreated, map[string]any{"run": n, "id": r.PathValue("id")})
	}
	routes := []kit.Route{
		{Method: http.MethodPost, Path: "/v1/things/{id}", Access: kit.Anyone, Handler: command},
		{Method: http.MethodPost, Path: "/v1/invitations/resend-request", Access: kit.Anyone, Handler: command},
		{Method: http.MethodGet, Path: "/v1/things/{id}", Access: kit.Anyone, Handler: command},
	}
	log := slog.New(slog.DiscardHandler)
	s := httpapi.New(auth.NewChain(auth.NewVerifier(secret, nil), nil), log, routes)
	s.UseIdempotency(httpapi.NewIdempotencyKeys(k.pool, httpapi.IdempotencyConfig{Lease: lease, Log: log}))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	k.url = srv.URL
	return k
}

type reply struct {
	status   int
	replayed bool
	body     string
	problem  string
}

// send makes one request; key "" sends none, subject "" no token.
func (k *keyed) send(method, path, subject, key, body string) reply {
	req, _ := http.NewRequest(method, k.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(httpapi.IdempotencyHeader, key)
	}
	if subject != "" {
		tok, _ := auth.Mint(secret, subject, subject+"@test.example", false, time.Hour, time.Now())
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var p struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(raw, &p)
	return reply{resp.StatusCode, resp.Header.Get("Idempotent-Replayed") == "true", string(raw), p.Type}
}

func TestIdempotency_replays_the_first_answer_without_running_again(t *testing.T) {
	k := newKeyed(t, 0)
	first := k.send("POST", "/v1/things/1", "", "k-1", `{}`)
	again := k.send("POST", "/v1/things/1", "", "k-1", `{}`)
	if first.status != http.StatusCreated || first.replayed || again.status != first.status || again.body != first.body || !again.replayed {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	if n := k.runs.Load(); n != 1 {
		t.Fatalf("%d runs", n)
	}
	k.send("POST", "/v1/things/1", "", "", `{}`)
	k.send("POST", "/v1/things/1", "", "", `{}`)
	if n := k.runs.Load(); n != 3 {
		t.Fatalf("without a key: %d runs, want 3", n)
	}
}

func TestIdempotency_refuses_the_key_for_another_request(t *testing.T) {
	k := newKeyed(t, 0)
	k.send("POST", "/v1/things/1", "alice", "k-1", `{}`)
	for _, r := range []reply{
		k.send("POST", "/v1/things/1", "alice", "k-1", `{"status":0}`),
		k.send("POST", "/v1/things/2", "alice", "k-1", `{}`),
	} {
		if r.status != http.StatusUnprocessableEntity || !strings.HasSuffix(r.problem, "idempotency-key-reused") {
			t.Fatalf("%+v", r)
		}
	}
	// Keys are scoped by the caller.
	if r := k.send("POST", "/v1/things/1", "bob", "k-1", `{"status":0}`); r.status != http.StatusCreated || r.replayed {
		t.Fatalf("another caller's key: %+v", r)
	}
}

func TestIdempotency_rejects_malformed_keys_and_leaves_other_routes_alone(t *testing.T) {
	k := newKeyed(t, 0)
	for _, key := range []string{strings.Repeat("k", 256), "ключ", "tab\there"} {
		r := k.send("POST", "/v1/things/1", "", key, `{}`)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"field":"Idempotency-Key"`) {
			t.Fatalf("key %q: %+v", key, r)
		}
	}
	req, _ := http.NewRequest("POST", k.url+"/v1/things/1", strings.NewReader(`{}`))
	req.Header[httpapi.IdempotencyHeader] = []string{"a", "b"}
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("two keys: %v %v", resp.StatusCode, err)
	}
	if k.runs.Load() != 0 {
		t.Fatal("a malformed key ran the command")
	}
	if r := k.send("POST", "/v1/things/1", "", strings.Repeat("k", 255), `{}`); r.status != http.StatusCreated {
		t.Fatalf("a 255-character key: %+v", r)
	}
	for _, path := range []string{"/v1/invitations/resend-request", "/v1/things/1"} {
		method := map[bool]string{true: "POST", false: "GET"}[strings.Contains(path, "resend")]
		k.send(method, path, "", "same", `{}`)
		if r := k.send(method, path, "", "same", `{}`); r.replayed || r.status != http.StatusCreated {
			t.Fatalf("%s %s: %+v", method, path, r)
		}
	}
}

func TestIdempotency_keeps_4xx_answers_but_not_5xx(t *testing.T) {
	k := newKeyed(t, 0)
	k.send("POST", "/v1/things/1", "", "four", `{"status":409}`)
	if r := k.send("POST", "/v1/things/1", "", "four", `{"status":409}`); r.status != http.StatusConflict || !r.replayed {
		t.Fatalf("a 4xx again: %+v", r)
	}
	k.send("POST", "/v1/things/1", "", "five", `{"status":503}`)
	if r := k.send("POST", "/v1/things/1", "", "five", `{"status":503}`); r.status != http.StatusServiceUnavailable || r.replayed {
		t.Fatalf("a 5xx again: %+v", r)
	}
	if n := k.runs.Load(); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}
}

// A request refused as written (400) keeps nothing under its key: the
// client corrects it and sends it again with the same key.
func TestIdempotency_a_400_is_not_kept_so_the_corrected_request_runs(t *testing.T) {
	k := newKeyed(t, 0)
	if r := k.send("POST", "/v1/things/1", "", "fix", `{"status":400}`); r.status != http.StatusBadRequest || r.replayed {
		t.Fatalf("the first: %+v", r)
	}
	if r := k.send("POST", "/v1/things/1", "", "fix", `{"status":400}`); r.status != http.StatusBadRequest || r.replayed {
		t.Fatalf("the same again: %+v, want it run again", r)
	}
	corrected := k.send("POST", "/v1/things/1", "", "fix", `{}`)
	if corrected.status != http.StatusCreated || corrected.replayed {
		t.Fatalf("corrected: %+v", corrected)
	}
	if r := k.send("POST", "/v1/things/1", "", "fix", `{}`); !r.replayed || r.body != corrected.body {
		t.Fatalf("the corrected one again: %+v, want %s replayed", r, corrected.body)
	}
	if n := k.runs.Load(); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}
	// A decision is kept: a 422 (or 403, 404, 409) again is the same 422.
	k.send("POST", "/v1/things/1", "", "rule", `{"status":422}`)
	if r := k.send("POST", "/v1/things/1", "", "rule", `{"status":422}`); r.status != http.StatusUnprocessableEntity || !r.replayed {
		t.Fatalf("a 422 again: %+v", r)
	}
}

func TestIdempotency_a_running_key_is_409_until_its_holder_dies(t *testing.T) {
	// A long lease: nothing renews it during the test, and the test
	// plays the holder's death by moving locked_until.
	k := newKeyed(t, time.Hour)
	k.block = make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	var first reply
	go func() { defer wg.Done(); first = k.send("POST", "/v1/things/1", "", "slow", `{}`) }()
	waitRuns(t, k, 1)
	if r := k.send("POST", "/v1/things/1", "", "slow", `{}`); r.status != http.StatusConflict || !strings.HasSuffix(r.problem, "idempotency-key-in-progress") {
		t.Fatalf("while running: %+v", r)
	}
	if _, err := k.pool.Exec(context.Background(), `UPDATE idempotency_keys SET locked_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	var retry reply
	go func() { defer wg.Done(); retry = k.send("POST", "/v1/things/1", "", "slow", `{}`) }()
	waitRuns(t, k, 2)
	close(k.block)
	wg.Wait()
	if first.status != http.StatusCreated || retry.status != http.StatusCreated {
		t.Fatalf("first %+v, retry %+v", first, retry)
	}
	// The key keeps the answer of the run that held it last.
	if r := k.send("POST", "/v1/things/1", "", "slow", `{}`); !r.replayed || r.body != retry.body {
		t.Fatalf("after both: %+v, want %s", r, retry.body)
	}
}

func waitRuns(t *testing.T, k *keyed, n int32) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); k.runs.Load() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d runs within 5s, want %d", k.runs.Load(), n)
		}
	}
}

func TestIdempotency_expired_keys_count_as_absent_and_are_swept(t *testing.T) {
	k := newKeyed(t, 0)
	k.send("POST", "/v1/things/1", "", "old", `{}`)
	ctx := context.Background()
	if _, err := k.pool.Exec(ctx, `UPDATE idempotency_keys SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if r := k.send("POST", "/v1/things/1", "", "old", `{"status":0}`); r.status != http.StatusCreated || r.replayed {
		t.Fatalf("an expired key with another body: %+v", r)
	}
	for i := range 3 {
		if _, err := k.pool.Exec(ctx, `INSERT INTO idempotency_keys (principal, route, key, request_hash, holder, status, expires_at)
			VALUES ('x', 'POST /v1/things/{id}', $1, '\x00', gen_random_uuid(), 201, now() - interval '1 hour')`, fmt.Sprint("gone-", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh process sweeps on its first key.
	other := newKeyedOn(t, k.pool, 0)
	other.send("POST", "/v1/things/1", "", "new", `{}`)
	var left int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_ = k.pool.QueryRow(ctx, `SELECT count(*) FROM idempotency_keys WHERE key LIKE 'gone-%'`).Scan(&left)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d expired keys left", left)
		}
	}
}

func TestIdempotency_the_OpenAPI_document_names_the_header_and_its_answers(t *testing.T) {
	ok := func(w http.ResponseWriter, _ *http.Request) {}
	routes := []kit.Route{
		{Method: http.MethodPost, Path: "/v1/things/{id}", Access: kit.Anyone, Success: http.StatusCreated, Statuses: []int{404}, Handler: ok},
		{Method: http.MethodPost, Path: "/v1/invitations/resend-request", Access: kit.Anyone, Success: http.StatusAccepted, Handler: ok},
		{Method: http.MethodGet, Path: "/v1/things/{id}", Access: kit.Anyone, Success: http.StatusOK, Handler: ok},
	}
	s := httpapi.New(auth.NewChain(auth.NewVerifier(secret, nil), nil), slog.New(slog.DiscardHandler), routes)
	s.UseIdempotency(httpapi.NewIdempotencyKeys(nil, httpapi.IdempotencyConfig{}))
	raw, err := json.Marshal(s.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string }
			Responses  map[string]any
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	takesKey := func(path, method string) bool {
		for _, p := range doc.Paths[path][method].Parameters {
			if p.Name == httpapi.IdempotencyHeader && p.In == "header" {
				return true
			}
		}
		return false
	}
	command := doc.Paths["/v1/things/{id}"]["post"]
	if !takesKey("/v1/things/{id}", "post") {
		t.Errorf("the command route does not name %s: %+v", httpapi.IdempotencyHeader, command.Parameters)
	}
	for _, st := range []string{"201", "400", "404", "409", "422"} {
		if command.Responses[st] == nil {
			t.Errorf("the command route does not list %s: %v", st, command.Responses)
		}
	}
	if takesKey("/v1/invitations/resend-request", "post") || takesKey("/v1/things/{id}", "get") {
		t.Errorf("a route that ignores %s names it", httpapi.IdempotencyHeader)
	}
	if r := doc.Paths["/v1/invitations/resend-request"]["post"].Responses; r["422"] != nil || r["409"] != nil {
		t.Errorf("the resend request lists answers of the key it ignores: %v", r)
	}
}

// A request whose client went away before its key was checked (it gave
// up on a process stopped under it) is no fault of the service: nothing
// is logged as an error. A soak's clients that timed out on stopped
// instances left an ERROR each when those went on.
func TestIdempotency_a_request_ended_before_its_key_is_checked_logs_no_error(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	command := func(w http.ResponseWriter, r *http.Request) { t.Error("the command ran for a request that had ended") }
	s := httpapi.New(auth.NewChain(auth.NewVerifier(secret, nil), nil), log,
		[]kit.Route{{Method: http.MethodPost, Path: "/v1/things/{id}", Access: kit.Anyone, Handler: command}})
	s.UseIdempotency(httpapi.NewIdempotencyKeys(pgtest.Pool(t), httpapi.IdempotencyConfig{Lease: time.Minute, Log: log}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/things/1", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpapi.IdempotencyHeader, "gone-1")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("answered %d, want 503: the command did not run", rec.Code)
	}
	if strings.Contains(logged.String(), "level=ERROR") {
		t.Errorf("a request ended before its key was checked logged an error:\n%s", logged.String())
	}
	if !strings.Contains(logged.String(), "the request ended") {
		t.Errorf("the key's check was not cut short by the request's end:\n%s", logged.String())
	}
}
