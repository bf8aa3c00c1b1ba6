package service_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// sweptThenBack records the expiries due a minute after at, then sets
// the clock back to a minute before it: what an instance whose clock is
// behind the sweeper's sees, or any instance after its clock stepped back.
func (h *harness) sweptThenBack(at time.Time, want int) {
	h.t.Helper()
	h.clock.Set(at.Add(time.Minute))
	if n, err := h.svc.Sweeper.Sweep(context.Background()); err != nil || n != want {
		h.t.Fatalf("sweep recorded %d, want %d: %v", n, want, err)
	}
	h.clock.Set(at.Add(-time.Minute))
}

// lastEvent is the type of the last event of a stream.
func (h *harness) lastEvent(stream string) string {
	h.t.Helper()
	op := h.token("op-1", "ops@bizcenter.example", true)
	events := h.must(http.StatusOK, "GET", "/v1/audit/streams/"+stream, op, nil)["events"].([]any)
	return events[len(events)-1].(map[string]any)["type"].(string)
}

// Once user.invitation_expired is in the log, that invitation stays
// expired whatever the clock says afterwards: accepting it with a clock
// behind the sweeper's appended user.invitation_accepted after it, a log
// saying the invitation expired unaccepted and then was accepted.
func TestClock_set_back_does_not_accept_an_invitation_recorded_expired(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	inv := h.must(http.StatusCreated, "POST", users, admin, invite("late@northwind.example", "account_viewer"))
	h.must(http.StatusOK, "GET", users+"?after="+inv["position"].(string), admin, nil) // the sweeper reads it
	token := h.mailTokens("late@northwind.example", 1)[0]
	expiresAt, err := time.Parse(time.RFC3339, inv["invitationExpiresAt"].(string))
	if err != nil {
		t.Fatal(err)
	}

	h.sweptThenBack(expiresAt, 1)
	code, body := h.call("POST", "/v1/invitations/accept", "", map[string]any{"token": token})
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"invitation-expired" {
		t.Errorf("accepting an invitation recorded expired, the clock a minute before its end: %d %v; want 422 invitation-expired", code, body)
	}
	if last := h.lastEvent("user-" + inv["userId"].(string)); last != "user.invitation_expired" {
		t.Errorf("the user's stream ends with %s after its expiry was recorded, want user.invitation_expired", last)
	}
}

// Once subscription.expired is in the log, the subscription stays
// expired: its total changed with a clock behind the sweeper's.
func TestClock_set_back_does_not_change_a_subscription_recorded_expired(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	id, pos := h.order(accountID, admin, "", "Yearly")
	h.must(http.StatusOK, "GET", subs+"/"+id+"?after="+pos, admin, nil) // the sweeper reads it

	h.sweptThenBack(time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), 1)
	code, body := h.call("PUT", subs+"/"+id+"/total-licenses", admin, map[string]any{"total": 5})
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"subscription-expired" {
		t.Errorf("changing a subscription recorded expired, the clock a minute before its end: %d %v; want 422 subscription-expired", code, body)
	}
	if last := h.lastEvent("subscription-" + id); last != "subscription.expired" {
		t.Errorf("the subscription's stream ends with %s after its expiry was recorded, want subscription.expired", last)
	}
}
