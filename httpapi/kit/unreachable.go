package kit

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Unreachable is the answer to a request that needed the database while
// it could not be reached (a connection refused, failed or cut), or the
// event store while it was unavailable: a 503 with a hint to retry, as
// /readyz says then, not a 500 that reads as a fault of the request. Nil
// for any other error.
//
// A connection cut under a query that runs is one too: the server ending
// it as it shuts down or restarts (SQLSTATE class 57P: "terminating
// connection due to administrator command"), a connection exception
// (class 08), or the socket closed without a word (a server that
// crashed or was stopped at once: "unexpected EOF"), and the connection
// the driver closed after it.
func Unreachable(err error) *Problem {
	if !cutOff(err) {
		return nil
	}
	p := NewProblem(http.StatusServiceUnavailable, "unavailable", "the database cannot be reached now; try again")
	p.RetryAfter = 5
	return p
}

// cutOff reports whether err says the database or the event store
// could not be reached, or its connection was cut (see Unreachable).
func cutOff(err error) bool {
	var connect *pgconn.ConnectError
	var network *net.OpError
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &connect), errors.As(err, &network), errors.Is(err, eventstore.ErrUnavailable):
		return true
	case errors.As(err, &pg):
		return strings.HasPrefix(pg.Code, "57P") || strings.HasPrefix(pg.Code, "08")
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed)
}
