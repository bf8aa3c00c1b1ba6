package httpapi

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/bizcenter/bizcenter/commands"
)

// postResend sends one resend request from addr; it answers the status.
func postResend(q *ResendRequests, addr, email, agreement, purchaseAccount string) int {
	body := fmt.Sprintf(`{"email":%q,"agreementNumber":%q,"purchaseAccountNumber":%q}`, email, agreement, purchaseAccount)
	r := httptest.NewRequest(http.MethodPost, "/v1/invitations/resend-request", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = addr + ":40000"
	w := httptest.NewRecorder()
	q.Route().Handler(w, r)
	return w.Code
}

// queued drains what the intake queued for the worker.
func queued(q *ResendRequests) []commands.RequestManagerResend {
	var out []commands.RequestManagerResend
	for {
		select {
		case req := <-q.queue:
			out = append(out, req)
		default:
			return out
		}
	}
}

// Someone who knows an account's numbers and guesses emails, from many
// addresses, does not use up the manager's own resends: only requests
// naming the same email and numbers share an allowance.
func TestResendRequests_wrong_guesses_do_not_use_up_the_managers_allowance(t *testing.T) {
	q := NewResendRequests(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := range 10 {
		if code := postResend(q, fmt.Sprintf("198.51.100.%d", i), fmt.Sprintf("guess%d@contoso.example", i), "AG-1", "PA-1"); code != http.StatusAccepted {
			t.Fatalf("a guess: %d", code)
		}
	}
	queued(q)
	if code := postResend(q, "203.0.113.7", " PAM@Contoso.example", "AG-1 ", "PA-1"); code != http.StatusAccepted {
		t.Fatalf("the manager's request: %d", code)
	}
	got := queued(q)
	if len(got) != 1 || got[0].Email != " PAM@Contoso.example" {
		t.Fatalf("after the guesses, the manager's request queued %v; want it", got)
	}

	// Requests naming the manager (as normalized) still share one
	// allowance, whatever their addresses: three at once, then none.
	for i := range 5 {
		postResend(q, fmt.Sprintf("192.0.2.%d", i), "pam@contoso.example", "AG-1", "PA-1")
	}
	if got := queued(q); len(got) != 2 {
		t.Fatalf("%d more requests for the manager queued, want 2 (three an hour, one spent)", len(got))
	}
}

// The answer is the same whatever becomes of a request; /metrics counts
// what did, so a full queue dropping requests is seen.
func TestResendRequests_count_their_outcomes(t *testing.T) {
	q := NewResendRequests(nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	full := cap(q.queue)
	for i := range full + 3 {
		addr := fmt.Sprintf("10.%d.%d.1", i/256, i%256)
		if code := postResend(q, addr, fmt.Sprintf("m%d@contoso.example", i), "AG-1", "PA-1"); code != http.StatusAccepted {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	for range 6 {
		postResend(q, "192.0.2.9", "pam@contoso.example", "AG-1", "PA-1")
	}
	count := func(outcome string) float64 {
		var m dto.Metric
		if err := q.outcomes.WithLabelValues(outcome).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	// From 192.0.2.9: five allowed (three for the target, all dropped
	// with the queue full; two over the target's limit), one 429.
	for outcome, want := range map[string]float64{"queued": float64(full), "queue_full": 6, "over_target_limit": 2, "limited": 1} {
		if got := count(outcome); got != want {
			t.Errorf("%s: %v, want %v", outcome, got, want)
		}
	}
	if n := len(queued(q)); n != full {
		t.Fatalf("%d queued, want %d", n, full)
	}
}
