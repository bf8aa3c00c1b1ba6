package service_test

import (
	"context"
	"net/http"
	"reflect"
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

// lateInvitation invites someone, once the sweeper can read it: the users
// route, the answer, and when the invitation ends.
func (h *harness) lateInvitation(accountID, admin string) (string, map[string]any, time.Time) {
	h.t.Helper()
	users := "/v1/accounts/" + accountID + "/users"
	inv := h.must(http.StatusCreated, "POST", users, admin, invite("late@northwind.example", "account_viewer"))
	h.must(http.StatusOK, "GET", users+"?after="+inv["position"].(string), admin, nil) // the sweeper reads it
	expiresAt, err := time.Parse(time.RFC3339, inv["invitationExpiresAt"].(string))
	if err != nil {
		h.t.Fatal(err)
	}
	return users, inv, expiresAt
}

// yearlySubscription orders one, once the sweeper can read it: the
// subscriptions route and its id.
func (h *harness) yearlySubscription(accountID, admin string) (string, string) {
	h.t.Helper()
	subs := "/v1/accounts/" + accountID + "/subscriptions"
	id, pos := h.order(accountID, admin, "", "Yearly")
	h.must(http.StatusOK, "GET", subs+"/"+id+"?after="+pos, admin, nil) // the sweeper reads it
	return subs, id
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
	_, inv, expiresAt := h.lateInvitation(accountID, admin)
	token := h.mailTokens("late@northwind.example", 1)[0]

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
	subs, id := h.yearlySubscription(accountID, admin)

	h.sweptThenBack(time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), 1)
	code, body := h.call("PUT", subs+"/"+id+"/total-licenses", admin, map[string]any{"total": 5})
	if code != http.StatusUnprocessableEntity || problemType(body) != problems+"subscription-expired" {
		t.Errorf("changing a subscription recorded expired, the clock a minute before its end: %d %v; want 422 subscription-expired", code, body)
	}
	if last := h.lastEvent("subscription-" + id); last != "subscription.expired" {
		t.Errorf("the subscription's stream ends with %s after its expiry was recorded, want subscription.expired", last)
	}
}

// afterAll is a position past every event appended so far (a domain
// associated with the account, appended last): ?after= it reads them all.
func (h *harness) afterAll(accountID, admin, domain string) string {
	h.t.Helper()
	return h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/domains/"+domain, admin, nil)["position"].(string)
}

// The read API decides a status as the commands do: an invitation whose
// expiry is recorded is expired on a clock behind the sweeper's too, in
// the user's detail, the lists by status and their totals, and the
// account's counts. It was pending there (counted in the hour it expires
// in), while accepting it was refused as expired and its history ended
// with the expiry.
func TestClock_set_back_shows_and_counts_an_invitation_recorded_expired_as_expired(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users, inv, expiresAt := h.lateInvitation(accountID, admin)

	h.sweptThenBack(expiresAt, 1)
	after := "?after=" + h.afterAll(accountID, admin, "northwind.example")
	detail := h.must(http.StatusOK, "GET", users+"/"+inv["userId"].(string)+after, admin, nil)
	if detail["status"] != "expired" {
		t.Errorf("the user's status %v, want expired (history %v)", detail["status"], detail["history"])
	}
	counts := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID, admin, nil)["userCounts"]
	if want := map[string]any{"all": 2.0, "active": 1.0, "pending": 0.0, "expired": 1.0}; !reflect.DeepEqual(counts, want) {
		t.Errorf("the account's counts %v, want %v", counts, want)
	}
	for status, n := range map[string]int{"pending": 0, "expired": 1} {
		page := h.must(http.StatusOK, "GET", users+"?status="+status, admin, nil)
		if got := len(page["items"].([]any)); got != n || page["total"] != float64(n) {
			t.Errorf("?status=%s: %d items, total %v; want %d", status, got, page["total"], n)
		}
	}
}

// So is a subscription whose expiry is recorded: expired in its detail,
// the list's counts and the filter by status.
func TestClock_set_back_shows_and_counts_a_subscription_recorded_expired_as_expired(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	subs, id := h.yearlySubscription(accountID, admin)

	h.sweptThenBack(time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC), 1)
	after := "?after=" + h.afterAll(accountID, admin, "northwind.example")
	if sub := h.must(http.StatusOK, "GET", subs+"/"+id+after, admin, nil); sub["status"] != "expired" {
		t.Errorf("the subscription's status %v, want expired", sub["status"])
	}
	page := h.must(http.StatusOK, "GET", subs+"?status=expired", admin, nil)
	if want := map[string]any{"all": 1.0, "active": 0.0, "cancelled": 0.0, "expired": 1.0}; !reflect.DeepEqual(page["counts"], want) || page["total"] != 1.0 {
		t.Errorf("?status=expired: counts %v, total %v; want %v, 1", page["counts"], page["total"], want)
	}
}
