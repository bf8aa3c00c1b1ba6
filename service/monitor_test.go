package service_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/projections"
	"github.com/bizcenter/bizcenter/service"
)

// projectorState samples now and returns one projector's status.
func (h *harness) projectorState(name string) projections.Status {
	h.t.Helper()
	_ = h.svc.Monitor.Sample(context.Background())
	for _, s := range h.svc.Monitor.Snapshot() {
		if s.Name == name {
			return s
		}
	}
	h.t.Fatalf("no status for %s", name)
	return projections.Status{}
}

func TestMonitor_reports_a_stall_in_readyz_and_recovers(t *testing.T) {
	h := start(t, options{stallAfter: 300 * time.Millisecond})
	accountID, admin := h.registered()
	waitFor(t, "users to be live", 10*time.Second, func() bool { return h.projectorState("users").State == projections.StateLive })
	op := h.token("op", "ops@bizcenter.example", true)
	admin2 := h.must(http.StatusOK, "GET", "/v1/admin/projections", op, nil)
	if n, want := len(admin2["items"].([]any)), len(h.svc.Monitor.Topics); n != want || want < len(service.ProjectorNames())+1 {
		t.Fatalf("admin route lists %d consumers, want every projector and consumer (%d): %v", n, want, admin2)
	}
	if code, _ := h.call("GET", "/v1/admin/projections", admin, nil); code != http.StatusForbidden {
		t.Fatalf("a customer on the admin route: %d", code)
	}

	// Hold the users projector still (its batch's FOR SHARE waits on this
	// lock) while the log moves on. A table lock takes no transaction id,
	// so it does not hold back the store's safe horizon, and with it every
	// subscriber, as a row lock would.
	ctx := context.Background()
	tx, err := h.svc.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // also when the test fails
	if _, err := tx.Exec(ctx, `LOCK TABLE projection_versions IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("stall@northwind.example", "account_viewer"))
	waitFor(t, "users to be stalled", 10*time.Second, func() bool { return h.projectorState("users").State == projections.StateStalled })
	code, body := h.call("GET", "/readyz", "", nil)
	// The table lock holds every projector still (audit too): any of them
	// may be the one readyz names.
	if code != http.StatusServiceUnavailable || !strings.Contains(body["detail"].(string), "stalled") {
		t.Fatalf("readyz while stalled: %d %v", code, body)
	}
	_, metrics := h.call("GET", "/metrics", "", nil)
	if !strings.Contains(metrics["raw"].(string), `bizcenter_projection{measure="state_stalled",projector="users"} 1`) {
		t.Fatal("metrics do not show the stall")
	}
	_ = tx.Rollback(ctx)
	waitFor(t, "users to be live again", 10*time.Second, func() bool { return h.projectorState("users").State == projections.StateLive })
	waitFor(t, "readyz to answer 200 again", 10*time.Second, func() bool {
		_ = h.svc.Monitor.Sample(context.Background())
		code, _ := h.call("GET", "/readyz", "", nil)
		return code == http.StatusOK
	})
}

func TestMonitor_reports_a_failing_projector(t *testing.T) {
	h := start(t, options{stallAfter: 5 * time.Second})
	accountID, admin := h.registered()
	a, err := projections.ActiveBuild(context.Background(), h.svc.Pool(), "users")
	if err != nil {
		t.Fatal(err)
	}
	table := pgx.Identifier{a.Schema, "rm_user_history"}.Sanitize()
	if _, err := h.svc.Pool().Exec(context.Background(), `ALTER TABLE `+table+` RENAME COLUMN entries TO lines`); err != nil {
		t.Fatal(err)
	}
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("fail@northwind.example", "account_viewer"))
	waitFor(t, "users to be failing", 10*time.Second, func() bool {
		s := h.projectorState("users")
		return s.State == projections.StateFailing && strings.Contains(s.LastError, "entries")
	})
	if _, err := h.svc.Pool().Exec(context.Background(), `ALTER TABLE `+table+` RENAME COLUMN lines TO entries`); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?after="+inv["position"].(string), admin, nil)
}

// A consumer whose handler fails on every try (here the mailer, which has
// no dead letters, on an invitation it cannot record) sits still while the
// log moves on: after StallAfter its leader says stalled, with the error,
// and /readyz answers 503, as every other instance does. Its leader said
// failing for as long as the failure lasted and answered /readyz 200 (a
// soak: the one instance whose mailer was stuck was the one kept ready).
func TestMonitor_reports_a_consumer_that_keeps_failing_as_stalled_on_its_leader(t *testing.T) {
	h := start(t, options{stallAfter: time.Second})
	accountID, admin := h.registered()
	waitFor(t, "the mailer to be live", 10*time.Second, func() bool { return h.projectorState("mailer").State == projections.StateLive })
	ctx := context.Background()
	if _, err := h.svc.Pool().Exec(ctx, `ALTER TABLE mail_recipients RENAME COLUMN language TO lang`); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("stuck@northwind.example", "account_viewer"))
	waitFor(t, "the mailer to be stalled, saying why", 10*time.Second, func() bool {
		s := h.projectorState("mailer")
		return s.State == projections.StateStalled && strings.Contains(s.LastError, "language")
	})
	if code, body := h.call("GET", "/readyz", "", nil); code != http.StatusServiceUnavailable || !strings.Contains(body["detail"].(string), "mailer") {
		t.Fatalf("readyz while the mailer keeps failing: %d %v", code, body)
	}
	if _, err := h.svc.Pool().Exec(ctx, `ALTER TABLE mail_recipients RENAME COLUMN lang TO language`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "readyz to answer 200 again", 10*time.Second, func() bool {
		_ = h.svc.Monitor.Sample(ctx)
		code, _ := h.call("GET", "/readyz", "", nil)
		return code == http.StatusOK
	})
}

// metric is the value of bizcenter_projection for a projector and a
// measure, as /metrics shows it.
func (h *harness) metric(projector, measure string) float64 {
	h.t.Helper()
	_, out := h.call("GET", "/metrics", "", nil)
	line := `bizcenter_projection{measure="` + measure + `",projector="` + projector + `"} `
	for l := range strings.SplitSeq(out["raw"].(string), "\n") {
		if v, ok := strings.CutPrefix(l, line); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				h.t.Fatalf("%s: %v", l, err)
			}
			return f
		}
	}
	h.t.Fatalf("/metrics shows no %s%s", line, "value")
	return 0
}

// The metrics carry what the admin route shows: each projector's
// checkpoint and head (their commit and prepare parts), and when they
// were sampled, so that an alert can tell a sample gone stale.
func TestMetrics_show_checkpoint_head_and_the_samples_time(t *testing.T) {
	h := start(t, options{})
	h.registered()
	waitFor(t, "users to be live", 10*time.Second, func() bool { return h.projectorState("users").State == projections.StateLive })
	st := h.projectorState("users")
	for name, at := range map[string]string{"checkpoint": st.Checkpoint, "head": st.Head} {
		pos, err := eventstore.ParsePosition(at)
		if err != nil {
			t.Fatal(err)
		}
		if c, p := h.metric("users", name+"_commit"), h.metric("users", name+"_prepare"); c != float64(pos.Commit) || p != float64(pos.Prepare) {
			t.Errorf("%s: metrics %v-%v, status %s", name, c, p, at)
		}
	}
	// The monitor samples each second on its own too: this sample or a
	// later one.
	if at := h.metric("users", "sampled_at"); at < float64(st.SampledAt.UnixMilli())/1000 || at > float64(time.Now().Unix()+1) {
		t.Errorf("sampled_at %v, status sampled at %s", at, st.SampledAt)
	}
}
