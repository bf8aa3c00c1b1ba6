package kit

import (
	"errors"
	"net"
	"net/http"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Unreachable is the answer to a request that needed the database while
// it could not be reached (a connection refused, failed or cut), or the
// event store while it was unavailable: a 503 with a hint to retry, as
// /readyz says then, not a 500 that reads as a fault of the request. Nil
// for any other error.
func Unreachable(err error) *Problem {
	var connect *pgconn.ConnectError
	var network *net.OpError
	if !errors.As(err, &connect) && !errors.As(err, &network) && !errors.Is(err, eventstore.ErrUnavailable) {
		return nil
	}
	p := NewProblem(http.StatusServiceUnavailable, "unavailable", "the database cannot be reached now; try again")
	p.RetryAfter = 5
	return p
}
