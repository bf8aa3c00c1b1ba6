package kit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	// A connection cut under a query: the server shutting down or
	// restarting, or gone without a word, and the connection the driver
	// closed after it.
	for _, err := range []error{
		&pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"},
		&pgconn.PgError{Severity: "FATAL", Code: "57P02", Message: "terminating connection because of crash of another server process"},
		&pgconn.PgError{Severity: "FATAL", Code: "08006", Message: "connection failure"},
		io.ErrUnexpectedEOF,
		pgconn.ErrConnClosed,
	} {
		if p := Unreachable(fmt.Errorf("read stream user-1: %w", err)); p == nil || p.Status != http.StatusServiceUnavailable || p.RetryAfter == 0 {
			t.Errorf("%v: %+v, want a 503 with Retry-After", err, p)
		}
	}
	if p := Unreachable(&pgconn.PgError{Code: "23505", Message: "duplicate key value violates unique constraint"}); p != nil {
		t.Fatalf("a unique violation answered %+v", p)
	}
	if p := Unreachable(errors.New("no such column")); p != nil {
		t.Fatalf("another error answered %+v", p)
	}
}
