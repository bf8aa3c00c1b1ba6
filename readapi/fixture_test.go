package readapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/partnerseed"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/projections"
)

// t0 is when the fixture's clock starts; invitations last 60 days.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const invitationTTL = 60 * 24 * time.Hour

// fixture is a fresh database, a manual clock and the read routes on a mux.
type fixture struct {
	t     *testing.T
	pool  *pgxpool.Pool
	clock *clock.Manual
	mux   *http.ServeMux
	build string // the schema of the users read model's build
	// partners fills the partners read model's build (see
	// partners_fixture_test.go).
	partners *partnerseed.Seed
}

// principalHeader carries the test caller: "email" or "email;operator".
const principalHeader = "X-Test-Principal"

func newFixture(t *testing.T, wait time.Duration) *fixture {
	t.Helper()
	f := &fixture{t: t, pool: pgtest.Pool(t), clock: clock.NewManual(t0)}
	// The read model's tables, as the service creates them: a build of the
	// users projector behind public views.
	active, _, err := projections.Ensure(context.Background(), f.pool, projections.Users{})
	if err != nil {
		t.Fatal(err)
	}
	f.build = active.Schema
	partners, _, err := projections.Ensure(context.Background(), f.pool, projections.Partners{})
	if err != nil {
		t.Fatal(err)
	}
	f.partners = &partnerseed.Seed{T: t, Pool: f.pool, Schema: partners.Schema, Now: f.clock.Now}
	f.routes(Deps{Pool: f.pool, Clock: f.clock, WaitBound: wait})
	return f
}

// routes serves the read routes of d, in place of any served before.
func (f *fixture) routes(d Deps) {
	f.mux = http.NewServeMux()
	for _, r := range Routes(d) {
		f.mux.Handle(r.Method+" "+r.Path, withTestPrincipal(r.Handler))
	}
}

func withTestPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := r.Header.Get(principalHeader); h != "" {
			email, op := strings.CutSuffix(h, ";operator")
			r = r.WithContext(kit.WithPrincipal(r.Context(), kit.Principal{Subject: "sub-" + email, Email: email, Operator: op}))
		}
		next.ServeHTTP(w, r)
	})
}

// get calls a route as caller ("" for no principal) and decodes the answer
// into out; it returns the response.
func (f *fixture) get(caller, path string, out any) *http.Response {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if caller != "" {
		req.Header.Set(principalHeader, caller)
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			f.t.Fatalf("GET %s: %d %q: %v", path, rec.Code, rec.Body.String(), err)
		}
	}
	return rec.Result()
}

// ok calls a route expecting 200.
func (f *fixture) ok(caller, path string, out any) {
	f.t.Helper()
	if res := f.get(caller, path, out); res.StatusCode != http.StatusOK {
		f.t.Fatalf("GET %s: status %d, want 200", path, res.StatusCode)
	}
}

// problem calls a route expecting a problem document of a status.
func (f *fixture) problem(caller, path string, status int) kit.Problem {
	f.t.Helper()
	var p kit.Problem
	res := f.get(caller, path, &p)
	if res.StatusCode != status || p.Status != status || res.Header.Get("Content-Type") != "application/problem+json" {
		f.t.Fatalf("GET %s: %d %s %+v, want problem %d", path, res.StatusCode, res.Header.Get("Content-Type"), p, status)
	}
	return p
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.pool.Exec(context.Background(), sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f *fixture) account(name string) uuid.UUID {
	id := uuid.New()
	f.exec(`INSERT INTO rm_accounts (account_id, name, agreement_number, purchase_account_number, domains, registered_at)
	  VALUES ($1, $2, $3, $4, $5, $6)`, id, name, "AG-"+name, "PA-"+name, []string{strings.ToLower(name) + ".example"}, t0)
	return id
}

// seedUser is a user row; zero fields get defaults.
type seedUser struct {
	email, first, last string
	roles              []string
	active             bool
	invitedAt          time.Time
}

func (f *fixture) user(accountID uuid.UUID, s seedUser) uuid.UUID {
	id := uuid.New()
	if s.invitedAt.IsZero() {
		s.invitedAt = t0
	}
	if s.roles == nil {
		s.roles = []string{"account_viewer"}
	}
	status, activated := "pending", (*time.Time)(nil)
	if s.active {
		status, activated = "active", new(s.invitedAt.Add(time.Hour))
	}
	f.exec(`INSERT INTO rm_users (user_id, account_id, email, email_lower, first_name, last_name, name_sort,
	    language, country, roles, status, invited_at, invitation_expires_at, activated_at)
	  VALUES ($1, $2, $3, lower($3), $4, $5, lower($4 || ' ' || $5), 'en', 'GB', $6, $7, $8, $9, $10)`,
		id, accountID, s.email, s.first, s.last, s.roles, status, s.invitedAt, s.invitedAt.Add(invitationTTL), activated)
	return id
}

// checkpoint moves the checkpoints of both read models the routes read.
func (f *fixture) checkpoint(commit, prepare int64) {
	f.buildCheckpoint(f.build, commit, prepare)
	f.buildCheckpoint(f.partners.Schema, commit, prepare)
}

func (f *fixture) buildCheckpoint(build string, commit, prepare int64) {
	f.exec(`INSERT INTO projection_checkpoints (name, commit_pos, prepare_pos) VALUES ($3, $1, $2)
	  ON CONFLICT (name) DO UPDATE SET commit_pos = $1, prepare_pos = $2, updated_at = now()`, commit, prepare, build)
}

func usersPath(accountID uuid.UUID, query url.Values) string {
	return "/v1/accounts/" + accountID.String() + "/users?" + query.Encode()
}
