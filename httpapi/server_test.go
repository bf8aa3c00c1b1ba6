package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/httpapi"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// whoServer serves GET /open (anyone) and GET /mine (signed in), which
// take ?email and ?limit, and GET and POST /v1/things, which declare no
// parameter; each answers the caller's subject ("" when anonymous) and
// its query.
func whoServer(t *testing.T) string {
	t.Helper()
	who := func(w http.ResponseWriter, r *http.Request) {
		p, _ := kit.PrincipalFrom(r.Context())
		kit.WriteJSON(w, http.StatusOK, map[string]any{"subject": p.Subject, "query": r.URL.Query()})
	}
	query := map[string]string{"email": "a filter", "limit": "page size"}
	s := httpapi.New(auth.NewChain(auth.NewVerifier(secret, nil), nil), slog.New(slog.DiscardHandler), []kit.Route{
		{Method: http.MethodGet, Path: "/open", Access: kit.Anyone, Query: query, Handler: who},
		{Method: http.MethodGet, Path: "/mine", Access: kit.SignedIn, Query: query, Handler: who},
		{Method: http.MethodGet, Path: "/v1/things", Access: kit.Anyone, Handler: who},
		{Method: http.MethodPost, Path: "/v1/things", Access: kit.Anyone, Handler: who},
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv.URL
}

// get answers the status and the JSON body of a GET with an Authorization
// header (none when "").
func get(t *testing.T, url, authorization string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestServer_open_routes_ignore_a_bad_token(t *testing.T) {
	url := whoServer(t)
	for _, authorization := range []string{"Bearer garbage", "Basic dXNlcjpwdw==", "Bearer"} {
		if status, out := get(t, url+"/open", authorization); status != http.StatusOK || out["subject"] != "" {
			t.Errorf("open with %q: %d %v", authorization, status, out)
		}
		if status, _ := get(t, url+"/mine", authorization); status != http.StatusUnauthorized {
			t.Errorf("signed-in route with %q: %d, want 401", authorization, status)
		}
	}
}

func TestServer_takes_the_bearer_scheme_in_any_case(t *testing.T) {
	url := whoServer(t)
	tok, _ := auth.Mint(secret, "u-1", "u1@test.example", false, time.Hour, time.Now())
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		for _, path := range []string{"/open", "/mine"} {
			if status, out := get(t, url+path, scheme+" "+tok); status != http.StatusOK || out["subject"] != "u-1" {
				t.Errorf("%s %s: %d %v", scheme, path, status, out)
			}
		}
	}
}

func TestServer_refuses_an_unparseable_query(t *testing.T) {
	url := whoServer(t)
	for query, field := range map[string]string{"email=%zz": "email", "limit=1;x": "limit"} {
		status, out := get(t, url+"/open?"+query, "")
		errs, _ := out["errors"].([]any)
		if status != http.StatusBadRequest || len(errs) != 1 || errs[0].(map[string]any)["field"] != field {
			t.Errorf("?%s: %d %v, want 400 naming %s", query, status, out, field)
		}
	}
	if status, _ := get(t, url+"/open?email=a%40b.example&limit=1", ""); status != http.StatusOK {
		t.Errorf("a good query: %d", status)
	}
}

func TestServer_refuses_a_repeated_or_unknown_query_parameter(t *testing.T) {
	url := whoServer(t)
	tok, _ := auth.Mint(secret, "u-1", "u1@test.example", false, time.Hour, time.Now())
	for query, fields := range map[string][]string{
		"/open?email=a&email=b":           {"email"},
		"/open?limit=5&limit=5":           {"limit"},
		"/open?emial=a":                   {"emial"},
		"/open?Email=a":                   {"Email"},
		"/open?email=a&stauts=x&sort=y":   {"sort", "stauts"},
		"/open?=x":                        {"query"},
		"/mine?limit=1&limit=2&status=ok": {"limit", "status"},
		"/v1/things?after=1-2&after=3-4":  {"after"},
		"/v1/things?cursor=x":             {"cursor"},
		"/v1/things?after=garbage":        {"after"},
		"/v1/things?after=-1-2":           {"after"},
	} {
		status, out := get(t, url+query, "Bearer "+tok)
		errs, _ := out["errors"].([]any)
		var named []string
		for _, e := range errs {
			named = append(named, e.(map[string]any)["field"].(string))
		}
		if status != http.StatusBadRequest || !slices.Equal(named, fields) {
			t.Errorf("%s: %d %v, want 400 naming %v", query, status, out, fields)
		}
	}
	// Every read route of the API takes ?after (API.md), whether it waits
	// or not; a command route takes none.
	for method, want := range map[string]int{http.MethodGet: http.StatusOK, http.MethodPost: http.StatusBadRequest} {
		req, _ := http.NewRequest(method, url+"/v1/things?after=12-3", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s /v1/things?after=12-3: %d, want %d", method, resp.StatusCode, want)
		}
	}
	for _, query := range []string{"/open", "/open?email=a&limit=5", "/open?email=&limit=", "/open?limit"} {
		if status, out := get(t, url+query, ""); status != http.StatusOK {
			t.Errorf("%s: %d %v", query, status, out)
		}
	}
}

// Answers echo what people typed: every one, a route's, a refusal or a
// path no route takes, tells browsers not to read it as another type.
func TestServer_answers_say_nosniff(t *testing.T) {
	url := whoServer(t)
	for _, path := range []string{"/open", "/mine", "/nowhere", "/open?unknown=1"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s (%d): X-Content-Type-Options %q, want nosniff", path, resp.StatusCode, got)
		}
	}
}
