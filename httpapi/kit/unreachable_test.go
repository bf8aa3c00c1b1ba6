package kit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
)

// A connection to a database that is not there, or an event store
// unavailable, is a 503 with a retry hint; any other error is not this
// one's to answer.
func TestUnreachable_is_a_503_for_a_database_out_of_reach(t *testing.T) {
	_, err := pgx.Connect(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	if err == nil {
		t.Fatal("connected to port 1")
	}
	p := Unreachable(fmt.Errorf("read the users: %w", err))
	if p == nil || p.Status != http.StatusServiceUnavailable || p.RetryAfter == 0 {
		t.Fatalf("%v: %+v, want a 503 with Retry-After", err, p)
	}
	if p := Unreachable(fmt.Errorf("append to user-1: %w: connection refused", eventstore.ErrUnavailable)); p == nil || p.Status != http.StatusServiceUnavailable {
		t.Fatalf("an event store unavailable: %+v, want a 503", p)
	}
	if p := Unreachable(errors.New("no such column")); p != nil {
		t.Fatalf("another error answered %+v", p)
	}
}
