// Package readapi serves the read side of bizcenter: thin HTTP handlers over
// query functions that read the projected tables (rm_*) with pgx and return
// this package's own DTOs. It never imports domain or commands.
package readapi

import (
	"context"
	"maps"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// DefaultWaitBound is how long a read waits for ?after when Deps leaves it 0.
const DefaultWaitBound = 5 * time.Second

// Member is the access of routes for members of the account (users of it
// who are active) and operators.
const Member kit.Access = "member"

// Deps are what the read routes need.
type Deps struct {
	Pool  *pgxpool.Pool
	Clock clock.Clock
	// WaitBound bounds the wait for ?after (DefaultWaitBound when 0).
	WaitBound time.Duration
	// Advanced, when set, returns a channel closed when this process next
	// finishes a batch of the named projector (projections.Advances.Next):
	// a read waiting for ?after then looks at once. Reads poll besides, for
	// a projector another instance leads.
	Advanced func(projector string) <-chan struct{}
	// Hurry, when set, asks this process's feed of the named projector to
	// send out at once a batch it holds back to gather more
	// (projections.Engine.Hurry): such a batch would otherwise keep a read
	// waiting for its position until its hold ends.
	Hurry func(projector string)
	// PastHead, when set, reports whether a position lies past the log's
	// last event: a read whose ?after wait runs out asks, and such a
	// position, which no command answered, is a 400 rather than a 503 to
	// retry forever.
	PastHead func(ctx context.Context, pos eventstore.Position) (bool, error)
	// Concurrent bounds the reads that query at once (DefaultConcurrent
	// when 0); the others wait their turn in order.
	Concurrent int

	running chan struct{} // a token a query, Concurrent of them

	firstPoll time.Duration // the wait's first poll, when a test sets it (else firstPoll)
}

// Routes declares every read route.
func Routes(d Deps) []kit.Route {
	if d.WaitBound <= 0 {
		d.WaitBound = DefaultWaitBound
	}
	if d.Concurrent <= 0 {
		d.Concurrent = DefaultConcurrent()
	}
	d.running = make(chan struct{}, d.Concurrent)
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	routes := []kit.Route{d.accountRoute(), d.listUsersRoute(), d.userRoute(), d.meRoute()}
	routes = append(routes, d.subscriptionRoutes()...)
	routes = append(routes, d.licenseRoutes()...)
	routes = append(routes, d.accountPartnerRoutes()...)
	routes = append(routes, d.partnerRoutes()...)
	routes = append(routes, d.billingRoutes()...)
	return append(routes, d.auditRoutes()...)
}

// readStatuses are the answers of every read route besides 200.
var readStatuses = []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusServiceUnavailable}

// memberStatuses add the 404 of an account the caller may not see.
var memberStatuses = append(readStatuses[:len(readStatuses):len(readStatuses)], http.StatusNotFound)

// operatorStatuses add the 403 of a caller who is not an operator.
var operatorStatuses = append(readStatuses[:len(readStatuses):len(readStatuses)], http.StatusForbidden)

// get completes the declaration of a read route: GET, 200 with JSON, the
// ?after parameter, and the statuses of its access.
func get(r kit.Route) kit.Route {
	r.Method, r.Success = http.MethodGet, http.StatusOK
	switch r.Access {
	case Member:
		r.Statuses = memberStatuses
	case kit.Operator:
		r.Statuses = operatorStatuses
	default:
		r.Statuses = readStatuses
	}
	query := map[string]string{
		"after": "a position a command answered: wait, bounded, until the read model has passed it " +
			"(also accepted as header " + afterHeader + ")",
	}
	maps.Copy(query, r.Query)
	r.Query = query
	headers := map[string]string{afterHeader: "as ?after; with both, the later position counts"}
	maps.Copy(headers, r.Headers)
	r.Headers = headers
	return r
}
