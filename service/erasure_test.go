package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/personal"
	"github.com/bizcenter/bizcenter/projections"
)

func TestErasure_forgets_a_users_personal_data_and_keeps_the_chain(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	op := h.token("op-erase", "ops@bizcenter.example", true)
	const email, first, last = "zelda.quixote@northwind.example", "Zeldaerase", "Quixoteerase"
	users := "/v1/accounts/" + accountID + "/users"
	inv := h.must(http.StatusCreated, "POST", users, admin, map[string]any{
		"email": email, "firstName": first, "lastName": last, "language": "en-GB", "country": "GB", "roles": []string{"reports_viewer"},
	})
	userID := inv["userId"].(string)
	h.mailTokens(email, 1)
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+inv["position"].(string), admin, nil)
	ctx := context.Background()

	// The stored events hold the names and email sealed only.
	for _, needle := range []string{email, first, last} {
		if where := scan(t, h.svc.Pool(), needle, "events"); len(where) != 0 {
			t.Fatalf("%q stored in plain text: %v", needle, where)
		}
	}
	if d := h.must(http.StatusOK, "GET", users+"/"+userID, admin, nil); d["email"] != email || d["firstName"] != first {
		t.Fatalf("detail before erasure %v", d)
	}
	if where := scan(t, h.svc.Pool(), email); len(where) == 0 {
		t.Fatal("the read model should show the email before the erasure")
	}

	erasure := users + "/" + userID + "/erasure"
	body := map[string]any{"reason": "verified request #4711"}
	if code, _ := h.call("POST", erasure, admin, body); code != http.StatusForbidden {
		t.Fatalf("an administrator erasing: %d", code)
	}
	if code, out := h.call("POST", erasure, op, map[string]any{"reason": " "}); code != http.StatusBadRequest {
		t.Fatalf("no reason: %d %v", code, out)
	}
	erased := h.must(http.StatusOK, "POST", erasure, op, body)
	again := h.must(http.StatusOK, "POST", erasure, op, body)
	if again["position"] != erased["position"] {
		t.Fatalf("erasing twice appended again: %v then %v", erased, again)
	}
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+erased["position"].(string), admin, nil)

	isErased := func(when string) {
		t.Helper()
		d := h.must(http.StatusOK, "GET", users+"/"+userID, admin, nil)
		if d["email"] != "[erased]" || d["firstName"] != "[erased]" || d["lastName"] != "[erased]" {
			t.Fatalf("%s: detail %v", when, d)
		}
	}
	isErased("after the erasure")
	waitFor(t, "the mailer and the audit model to see the erasure", 10*time.Second, func() bool {
		return len(scan(t, h.svc.Pool(), email)) == 0
	})

	if _, err := projections.Rebuild(ctx, h.svc.Pool(), h.svc.Store(), projections.Users{}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := projections.Rebuild(ctx, h.svc.Pool(), h.svc.Store(), projections.Audit{}, nil); err != nil {
		t.Fatal(err)
	}
	isErased("after a rebuild")
	for _, needle := range []string{email, first, last} {
		if where := scan(t, h.svc.Pool(), needle); len(where) != 0 {
			t.Fatalf("%q still stored: %v", needle, where)
		}
	}

	var out bytes.Buffer
	broken, err := audit.Verify(ctx, h.svc.Store(), &out)
	if err != nil || len(broken) != 0 {
		t.Fatalf("chain after erasure: %v %v\n%s", err, broken, out.String())
	}
	hist := h.must(http.StatusOK, "GET", "/v1/audit/streams/user-"+userID, op, nil)["events"].([]any)
	if last := hist[len(hist)-1].(map[string]any); last["type"] != "user.personal_data_erased" {
		t.Fatalf("last event %v", last)
	}
	state := h.must(http.StatusOK, "GET", "/v1/audit/streams/user-"+userID+"/as-of?revision=0", op, nil)["state"].(map[string]any)
	if strings.Contains(stringOf(state), email) {
		t.Fatalf("as-of state shows the email: %v", state)
	}
	// The others keep theirs.
	if d := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?limit=50", admin, nil); !strings.Contains(stringOf(d), managerEmail) {
		t.Fatalf("the manager lost their email: %v", d)
	}
}

func stringOf(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				b.WriteString(k + "=")
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			b.WriteString(v + " ")
		}
	}
	walk(v)
	return b.String()
}

// scan lists the tables (schema.table.column) of every schema holding
// needle in a text, JSON or byte column; only those listed when tables are
// given.
func scan(t *testing.T, pool *pgxpool.Pool, needle string, tables ...string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `
		SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
		 WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
		   AND data_type IN ('text', 'jsonb', 'json', 'bytea', 'character varying', 'ARRAY')
		   AND (coalesce(cardinality($1::text[]), 0) = 0 OR table_name = ANY($1))`, tables)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ schema, table, column, typ string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
		var c col
		return c, r.Scan(&c.schema, &c.table, &c.column, &c.typ)
	})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, c := range cols {
		ref := pgx.Identifier{c.schema, c.table}.Sanitize() + "." + pgx.Identifier{c.column}.Sanitize()
		cond := ref + `::text ILIKE '%' || $1 || '%'`
		if c.typ == "bytea" {
			cond = `encode(` + ref + `, 'escape') ILIKE '%' || $1 || '%'`
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{c.schema, c.table}.Sanitize()+` WHERE `+cond, needle).Scan(&n); err != nil {
			t.Fatalf("scan %s: %v", ref, err)
		}
		if n > 0 {
			found = append(found, ref)
		}
	}
	return found
}

// An erasure that destroyed the key and stopped before appending its
// event (a crash, a timeout) is finished by the sweeper, under the
// operator and reason the key store recorded: the read models blank the
// user, whose email no longer opens anywhere.
func TestSweeper_finishes_an_erasure_that_stopped_before_its_event(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	id := h.halfErased(accountID, admin, "half.erased@northwind.example")
	userID := id.String()
	ctx := context.Background()
	if n, err := h.svc.Sweeper.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a sweep within the grace: %d, %v; want nothing done", n, err)
	}
	// A rebuild of the users read model now would read the email blank
	// (its key is gone) with no event to say so: the sweeper must find
	// the erasure all the same.
	if _, err := h.svc.Pool().Exec(ctx, `UPDATE rm_users SET email = $2 WHERE user_id = $1`, id, "[erased]"); err != nil {
		t.Fatal(err)
	}
	// The key went three days ago (the sweeper was down since): the
	// event is dated then, not when the sweeper got to it.
	var keyErasedAt time.Time
	if err := h.svc.Pool().QueryRow(ctx, `UPDATE personal_keys SET erased_at = erased_at - interval '3 days'
		WHERE subject_id = $1 RETURNING erased_at`, id).Scan(&keyErasedAt); err != nil {
		t.Fatal(err)
	}
	h.svc.Sweeper.ErasureGrace = time.Nanosecond
	if n, err := h.svc.Sweeper.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want the erasure finished", n, err)
	}
	recs, err := h.svc.Store().ReadStream(ctx, "user-"+userID, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if last.Type != "user.personal_data_erased" || !bytes.Contains(last.Data, []byte(`"erasedBy":"op-half"`)) {
		t.Fatalf("the stream ends with %s %s", last.Type, last.Data)
	}
	var erased struct{ ErasedAt time.Time }
	if err := json.Unmarshal(last.Data, &erased); err != nil || !erased.ErasedAt.Equal(keyErasedAt) {
		t.Fatalf("erasedAt %v (%v), want when the key went, %v", erased.ErasedAt, err, keyErasedAt)
	}
	waitFor(t, "the users read model to blank the user", 10*time.Second, func() bool {
		d := h.must(http.StatusOK, "GET", users+"/"+userID, admin, nil)
		return d["email"] == "[erased]"
	})
	if n, err := h.svc.Sweeper.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a sweep after: %d, %v; want nothing left", n, err)
	}
	// A key erased with no user behind it has nothing to record: the
	// sweeper marks it rather than failing at every sweep.
	stray := uuid.New()
	if _, err := (personal.Keys{DB: h.svc.Pool()}).Erase(ctx, stray, "", "op-half", "no such user"); err != nil {
		t.Fatal(err)
	}
	if n, err := h.svc.Sweeper.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a sweep with a stray erased key: %d, %v; want nothing appended, no error", n, err)
	}
	var marked bool
	if err := h.svc.Pool().QueryRow(ctx, `SELECT erasure_recorded FROM personal_keys WHERE subject_id = $1`, stray).Scan(&marked); err != nil || !marked {
		t.Fatalf("the stray erased key: marked %v, %v", marked, err)
	}
}

// halfErased invites a user and destroys their key, as an erasure that
// stopped before its event would.
func (h *harness) halfErased(accountID, admin, email string) uuid.UUID {
	h.t.Helper()
	users := "/v1/accounts/" + accountID + "/users"
	inv := h.must(http.StatusCreated, "POST", users, admin, invite(email, "reports_viewer"))
	h.must(http.StatusOK, "GET", users+"/"+inv["userId"].(string)+"?after="+inv["position"].(string), admin, nil)
	id := uuid.MustParse(inv["userId"].(string))
	if _, err := (personal.Keys{DB: h.svc.Pool()}).Erase(context.Background(), id, "", "op-half", "verified request #77"); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// Concurrent sweeps finish a half-done erasure once, and say so once: the
// count is of events appended.
func TestSweeper_concurrent_sweeps_count_a_finished_erasure_once(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	h.halfErased(accountID, admin, "count.once@northwind.example")
	h.svc.Sweeper.ErasureGrace = time.Nanosecond
	var wg sync.WaitGroup
	var total atomic.Int64
	for range 3 {
		wg.Go(func() {
			n, err := h.svc.Sweeper.Sweep(context.Background())
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(n))
		})
	}
	wg.Wait()
	if total.Load() != 1 {
		t.Fatalf("three concurrent sweeps report %d appended; one erasure was finished", total.Load())
	}
}

// An erasure that keeps failing is reported at every sweep, and holds up
// neither the other erasures nor the subscriptions' expiries.
func TestSweeper_carries_on_past_an_erasure_that_keeps_failing(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	stuck := h.halfErased(accountID, admin, "stuck@northwind.example")
	other := h.halfErased(accountID, admin, "other@northwind.example")
	h.svc.Sweeper.ErasureGrace = time.Nanosecond
	erase := h.svc.Sweeper.Erase
	h.svc.Sweeper.Erase = commands.HandlerFunc[commands.FinishErasure, commands.PersonalDataErased](
		func(ctx context.Context, c commands.FinishErasure) (commands.PersonalDataErased, error) {
			if c.Subject == stuck {
				return commands.PersonalDataErased{}, errors.New("injected: this erasure keeps failing")
			}
			return erase.Handle(ctx, c)
		})
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	sub, pos := h.order(accountID, admin, "", "Yearly")
	h.must(http.StatusOK, "GET", subs+"/"+sub+"?after="+pos, admin, nil)
	h.clock.Set(time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC))
	if _, err := h.svc.Sweeper.Sweep(context.Background()); err == nil || !strings.Contains(err.Error(), stuck.String()) {
		t.Fatalf("sweep: %v; want the failing erasure reported", err)
	}
	recs, err := h.svc.Store().ReadStream(context.Background(), "subscription-"+sub, eventstore.ReadStreamOptions{})
	if err != nil || recs[len(recs)-1].Type != "subscription.expired" {
		t.Fatalf("the subscription's stream after the sweep ends with %s (%v); want its expiry", recs[len(recs)-1].Type, err)
	}
	var recorded bool
	if err := h.svc.Pool().QueryRow(context.Background(), `SELECT erasure_recorded FROM personal_keys WHERE subject_id = $1`, other).Scan(&recorded); err != nil || !recorded {
		t.Fatalf("the other erasure: recorded %v, %v", recorded, err)
	}
	if n, err := h.svc.Sweeper.Sweep(context.Background()); err == nil || n != 0 {
		t.Fatalf("the next sweep: %d, %v; want the failing erasure reported again, nothing else", n, err)
	}
}

// A half-done erasure is found by its key, even when the users read model
// has no row for the user (their invitation parked and skipped, say): the
// sweeper finishes it, and the email may be invited anew.
func TestSweeper_finishes_an_erasure_the_users_read_model_does_not_show(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	const email = "no.row@northwind.example"
	id := h.halfErased(accountID, admin, email)
	if _, err := h.svc.Pool().Exec(context.Background(), `DELETE FROM rm_users WHERE user_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	h.svc.Sweeper.ErasureGrace = time.Nanosecond
	if n, err := h.svc.Sweeper.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want the erasure finished", n, err)
	}
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite(email, "reports_viewer"))
}

// An erased person's invitation goes with their data: its link no longer
// makes an active user nobody can name.
func TestErasure_ends_the_users_pending_invitation(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	op := h.token("op-erase", "ops@bizcenter.example", true)
	users := "/v1/accounts/" + accountID + "/users"
	userID := h.must(http.StatusCreated, "POST", users, admin, invite("pending@northwind.example", "reports_viewer"))["userId"].(string)
	token := h.mailTokens("pending@northwind.example", 1)[0]
	erased := h.must(http.StatusOK, "POST", users+"/"+userID+"/erasure", op, map[string]any{"reason": "verified request"})
	if code, body := h.call("POST", "/v1/invitations/accept", "", map[string]any{"token": token}); code != http.StatusNotFound {
		t.Fatalf("accepting an erased user's invitation: %d %v", code, body)
	}
	if u := h.must(http.StatusOK, "GET", users+"/"+userID+"?after="+erased["position"].(string), admin, nil); u["status"] != "pending" {
		t.Fatalf("erased user %v, want still pending", u)
	}
}
