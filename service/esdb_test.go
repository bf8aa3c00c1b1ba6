package service_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/esdb"
	"github.com/bizcenter/bizcenter/eventstore/esdb/esdbfake"
	"github.com/bizcenter/bizcenter/internal/seed"
	"github.com/bizcenter/bizcenter/projections"
)

func startFake(t testing.TB) *esdbfake.Server {
	t.Helper()
	fake := esdbfake.New()
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Stop)
	return fake
}

func TestService_on_EventStoreDB_invites_accepts_and_reads_through_the_protocol_fake(t *testing.T) {
	fake := startFake(t)
	h := start(t, options{eventStoreURL: fake.ConnectionString()})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	inv := h.must(http.StatusCreated, "POST", users, admin, invite("esdb@northwind.example", "account_viewer"))
	tok := h.mailTokens("esdb@northwind.example", 1)[0]
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})
	detail := h.must(http.StatusOK, "GET", users+"/"+inv["userId"].(string)+"?after="+acc["position"].(string), admin, nil)
	if detail["status"] != "active" {
		t.Fatalf("detail: %v", detail)
	}
	// The events are in EventStoreDB, not in PostgreSQL.
	var n int
	if err := h.svc.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d events in PostgreSQL (err %v), want none", n, err)
	}
}

// userRows is the users read model as comparable text, one row a user.
func userRows(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT user_id, email, status, invitation_count, invitation_expires_at,
		       (SELECT count(*) FROM rm_user_history h, json_array_elements(h.entries::json) e
		         WHERE h.user_id = u.user_id AND e->'invitation' IS NOT NULL)
		  FROM rm_users u ORDER BY user_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	return out
}

// caughtUp waits, bounded, until the users projector has passed head.
func caughtUp(t *testing.T, pool *pgxpool.Pool, head eventstore.Position, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		at, err := projections.LiveCheckpoint(context.Background(), pool, projections.Users{}.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !at.Less(head) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("users projector at %v, head %v after %v", at, head, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProjection_resumes_after_EventStoreDB_restarts_and_matches_a_clean_run(t *testing.T) {
	const n = 3000
	fake := startFake(t)
	ctx := context.Background()
	store, err := esdb.New(ctx, fake.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	head, err := seed.Invitations(ctx, store, n, 3)
	store.Close()
	if err != nil {
		t.Fatal(err)
	}

	h := start(t, options{eventStoreURL: fake.ConnectionString()})
	pool := h.svc.Pool()
	deadline := time.Now().Add(time.Minute)
	for {
		var users int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM rm_users`).Scan(&users)
		if users >= n/10 {
			if users >= n {
				t.Fatalf("catch-up finished (%d users) before the server stopped: raise n", users)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d users projected", users)
		}
		time.Sleep(2 * time.Millisecond)
	}
	fake.Stop()
	time.Sleep(300 * time.Millisecond) // the server stays down a while
	if err := fake.Restart(); err != nil {
		t.Fatal(err)
	}
	caughtUp(t, pool, head, 2*time.Minute)

	clean := start(t, options{eventStoreURL: fake.ConnectionString()})
	caughtUp(t, clean.svc.Pool(), head, 2*time.Minute)
	got, want := userRows(t, pool), userRows(t, clean.svc.Pool())
	if len(want) != n {
		t.Fatalf("the clean run has %d users, want %d", len(want), n)
	}
	if len(got) != len(want) {
		t.Fatalf("after the restart %d users, clean run %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d differs:\n restarted: %s\n clean:     %s", i, got[i], want[i])
		}
	}
}

// While EventStoreDB cannot be reached, a command answers 503 with a
// retry hint, as it does while PostgreSQL cannot be, not a 500.
func TestService_on_EventStoreDB_answers_503_while_the_server_is_away(t *testing.T) {
	fake := startFake(t)
	h := start(t, options{eventStoreURL: fake.ConnectionString()})
	accountID, admin := h.registered()
	fake.Stop()
	code, body := h.call("POST", "/v1/accounts/"+accountID+"/users", admin, invite("away@northwind.example", "account_viewer"))
	if code != http.StatusServiceUnavailable || body["type"] == nil || !strings.HasSuffix(body["type"].(string), "unavailable") {
		t.Fatalf("invite while EventStoreDB is away: %d %v, want 503 unavailable", code, body)
	}
}

// A write EventStoreDB times out (its commit timeout under load: gRPC
// Aborted) has an unknown outcome: the command answers 503 with a retry
// hint, not a 500.
func TestService_on_EventStoreDB_answers_503_when_the_server_times_out_a_write(t *testing.T) {
	fake := startFake(t)
	h := start(t, options{eventStoreURL: fake.ConnectionString()})
	accountID, admin := h.registered()
	fake.TimeOutAppends(1)
	code, body := h.call("POST", "/v1/accounts/"+accountID+"/users", admin, invite("slow@northwind.example", "account_viewer"))
	if code != http.StatusServiceUnavailable || body["type"] == nil || !strings.HasSuffix(body["type"].(string), "unavailable") {
		t.Fatalf("invite while EventStoreDB times out the write: %d %v, want 503 unavailable", code, body)
	}
}

// /readyz says not ready, and why, while EventStoreDB cannot be reached
// (commands answer 503 then), and ready again once it is back: a load
// balancer must not send traffic to an instance whose every write fails.
func TestService_on_EventStoreDB_is_not_ready_while_the_server_is_away(t *testing.T) {
	fake := startFake(t)
	h := start(t, options{eventStoreURL: fake.ConnectionString()})
	waitFor(t, "/readyz to say ready", 10*time.Second, func() bool {
		code, _ := h.call("GET", "/readyz", "", nil)
		return code == http.StatusOK
	})
	fake.Stop()
	var body map[string]any
	waitFor(t, "/readyz to say not ready", 10*time.Second, func() bool {
		var code int
		code, body = h.call("GET", "/readyz", "", nil)
		return code == http.StatusServiceUnavailable
	})
	if detail, _ := body["detail"].(string); !strings.Contains(detail, "event store") {
		t.Errorf("/readyz with EventStoreDB away: %v, want the reason to name the event store", body)
	}
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "/readyz to say ready again", 20*time.Second, func() bool {
		code, _ := h.call("GET", "/readyz", "", nil)
		return code == http.StatusOK
	})
}

// An id inside the log that no event has (made up, or of another
// database) is refused with a 400 naming where it came from: EventStoreDB
// refuses to read from a position that is no record's (InvalidArgument,
// "Trying to read from an invalid position."), which was a 500 for a
// backlog and, for a followed feed, a 200 that never sent anything.
func TestFeed_on_EventStoreDB_refuses_an_id_that_is_no_event_of_the_log(t *testing.T) {
	fake := startFake(t)
	h := start(t, options{eventStoreURL: fake.ConnectionString()})
	op := h.token("auditor", "audit@bizcenter.example", true)
	h.registered()
	events := h.backlog(op, "?follow=false", "")
	if len(events) < 2 {
		t.Fatalf("%d events in the feed, want 2 or more", len(events))
	}
	first, err := eventstore.ParsePosition(events[0].id)
	if err != nil {
		t.Fatal(err)
	}
	h.feedRefuses(op, eventstore.Position{Commit: first.Commit + 1, Prepare: first.Prepare + 1}.String())
	// An event's own id still resumes after it.
	if rest := h.backlog(op, "?follow=false", first.String()); len(rest) != len(events)-1 {
		t.Errorf("after the first event: %d events, want %d", len(rest), len(events)-1)
	}
}
