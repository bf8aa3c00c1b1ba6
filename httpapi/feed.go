package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/integration"
)

// DefaultHeartbeat is how often the feed sends a comment line when no
// event goes out, so proxies and clients know the stream is alive.
const DefaultHeartbeat = 15 * time.Second

// FeedRoutes declares GET /v1/feed: integration events as Server-Sent
// Events, read from the event store from a position on, and only those
// the caller may see.
// pastHead reports whether a position lies past the log's last event
// (the read routes' readapi.Deps.PastHead); nil takes every position.
// stopping is closed when the server shuts down: a feed that follows the
// log ends then (nil: never).
// orders names the ordering partner on a subscription's later events
// (nil: one of the feed's own).
func FeedRoutes(store eventstore.Store, pool *pgxpool.Pool, log *slog.Logger, pastHead func(context.Context, eventstore.Position) (bool, error),
	stopping <-chan struct{}, orders *integration.Orders) []kit.Route {
	if orders == nil {
		orders = integration.NewOrders(store, log)
	}
	f := &feed{store: store, pool: pool, log: log, pastHead: pastHead, stopping: stopping, orders: orders}
	return []kit.Route{{
		Method: http.MethodGet, Path: "/v1/feed", Access: kit.SignedIn, Success: http.StatusOK,
		Summary: "Integration events (CloudEvents, docs/integration.md) as Server-Sent Events (text/event-stream): " +
			"each with `id:` its position, `event:` its type and `data:` the CloudEvent. Resume after the last id with the " +
			"Last-Event-ID header (or ?after=). Operators see every event; members of an account the events of that account " +
			"(its subscriptions' only with a role that reads them, as GET …/subscriptions); " +
			"a partner's users the events naming their partner: its orders' (all of a subscription's events name the partner that ordered it; " +
			"none after a channel change moved it off the account, when they go to the new partner's feed), " +
			"and channel changes and visibility grants between it and another.",
		Query: map[string]string{
			"after":     "a position (as in id:): start after it; Last-Event-ID takes precedence; default the start of the log",
			"types":     "comma-separated integration types (bizcenter.user.invited.v1,...); default all",
			"account":   "only events of this account",
			"heartbeat": "seconds between heartbeats when nothing is sent, 1 to 60 (default 15)",
			"follow":    "false: send what the log holds now and end; default true: stay open for new events",
		},
		Headers: map[string]string{
			"Last-Event-ID": "the id: of the last event received: resume after it (EventSource sends it when it reconnects); takes precedence over ?after",
		},
		Statuses: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusServiceUnavailable},
		Handler:  f.serve,
	}}
}

type feed struct {
	store eventstore.Store
	pool  *pgxpool.Pool
	log   *slog.Logger
	// undecodable holds the positions of events already logged as left
	// out, so that every caller's every read does not log them again.
	undecodable sync.Map
	pastHead    func(context.Context, eventstore.Position) (bool, error)
	// stopping ends the feeds that follow the log: the server's shutdown
	// waits for every request to end, and they never would.
	stopping <-chan struct{}
	orders   *integration.Orders
}

// feedQuery is a parsed feed request.
type feedQuery struct {
	after eventstore.Position
	// afterFrom names where after came from: "after" or "Last-Event-ID".
	afterFrom string
	types     []string
	account   string
	heartbeat time.Duration
	follow    bool
}

func parseFeed(r *http.Request) (feedQuery, *kit.Problem) {
	q := r.URL.Query()
	fq := feedQuery{heartbeat: DefaultHeartbeat, follow: true}
	var bad []kit.FieldProblem
	var err error
	if s := q.Get("account"); s != "" {
		// Events carry the canonical form; uuid.Parse takes the others
		// the rest of the API does (upper case, braces, urn:uuid:).
		id, err := uuid.Parse(s)
		if err != nil {
			bad = append(bad, kit.FieldProblem{Field: "account", Reason: "must be a UUID"})
		}
		fq.account = id.String()
	}
	if v := q.Get("follow"); v != "" {
		if fq.follow, err = strconv.ParseBool(v); err != nil {
			bad = append(bad, kit.FieldProblem{Field: "follow", Reason: "true or false"})
		}
	}
	after, from := q.Get("after"), "after"
	if h := r.Header.Get("Last-Event-ID"); h != "" {
		after, from = h, "Last-Event-ID"
	}
	fq.afterFrom = from
	if fq.after, err = eventstore.ParsePosition(after); err != nil {
		bad = append(bad, kit.FieldProblem{Field: from, Reason: "must be an event's id (a position, commit-prepare)"})
	}
	for t := range strings.SplitSeq(q.Get("types"), ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !slices.Contains(publishedTypes(), t) {
			bad = append(bad, kit.FieldProblem{Field: "types", Reason: "unknown type " + t})
			break
		}
		fq.types = append(fq.types, t)
	}
	if raw := q.Get("types"); raw != "" && strings.Trim(raw, ", ") == "" {
		// Commas alone name no type: read as no filter, they streamed
		// every type to a client that meant to choose.
		bad = append(bad, kit.FieldProblem{Field: "types", Reason: "name at least one type, or leave types out for all"})
	}
	if s := q.Get("heartbeat"); s != "" {
		d, err := time.ParseDuration(s + "s")
		if err != nil || d < time.Second || d > time.Minute {
			bad = append(bad, kit.FieldProblem{Field: "heartbeat", Reason: "seconds, 1 to 60"})
		}
		fq.heartbeat = d
	}
	if len(bad) > 0 {
		return fq, kit.Invalid(bad...)
	}
	return fq, nil
}

func publishedTypes() []string {
	var out []string
	for _, t := range integration.Types {
		out = append(out, t)
	}
	return out
}

// serve streams until the client leaves (or, with follow=false, until
// the log is read).
func (f *feed) serve(w http.ResponseWriter, r *http.Request) {
	p, _ := kit.PrincipalFrom(r.Context())
	fq, problem := parseFeed(r)
	if problem != nil {
		kit.WriteProblem(w, problem)
		return
	}
	ctx := r.Context()
	if problem := f.beyondLog(ctx, fq); problem != nil {
		kit.WriteProblem(w, problem)
		return
	}
	scope, err := f.scopeOf(ctx, p)
	if err != nil {
		fail(w, r, f.log, err)
		return
	}
	var first []eventstore.RecordedEvent
	if !fq.follow {
		// The first page is read before the answer's status: once a 200
		// has gone out, a log that cannot be read ended the stream as if
		// it held nothing more, which a script took for the whole log.
		if first, err = f.store.ReadAll(ctx, fq.after, backlogPage); err != nil {
			if errors.Is(err, eventstore.ErrInvalidPosition) {
				kit.WriteProblem(w, noEventsID(fq))
				return
			}
			fail(w, r, f.log, err)
			return
		}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_, _ = fmt.Fprint(w, ": bizcenter feed\n\n")
	_ = rc.Flush()
	if !fq.follow {
		f.backlog(ctx, w, fq, scope, first)
		return
	}
	sub, err := f.store.Subscribe(ctx, fq.after, eventstore.Filter{})
	if err != nil {
		return
	}
	defer sub.Close()
	items := make(chan *eventstore.RecordedEvent)
	go func() {
		defer close(items)
		for {
			m, err := sub.Recv()
			if err != nil {
				return
			}
			if m.Event == nil {
				continue
			}
			select {
			case items <- m.Event:
			case <-ctx.Done():
				return
			}
		}
	}()
	beat := time.NewTicker(fq.heartbeat)
	defer beat.Stop()
	// The feed ends when the token it was opened with does: the client
	// comes back with a fresh one (and Last-Event-ID), checked again.
	var expired <-chan time.Time
	if !p.Expires.IsZero() {
		until := time.NewTimer(time.Until(p.Expires))
		defer until.Stop()
		expired = until.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.stopping:
			_, _ = fmt.Fprint(w, ": shutting down\n\n")
			_ = rc.Flush()
			return
		case <-expired:
			_, _ = fmt.Fprint(w, ": token expired\n\n")
			_ = rc.Flush()
			return
		case <-beat.C:
			if scope, err = f.scopeOf(ctx, p); err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, ": heartbeat %s\n\n", time.Now().UTC().Format(time.RFC3339)); err != nil || rc.Flush() != nil {
				return
			}
		case rec, ok := <-items:
			if !ok {
				return
			}
			if err := f.send(ctx, w, rec, fq, scope); err != nil {
				return
			}
			_ = rc.Flush()
		}
	}
}

// beyondLog refuses a position past the log's last event: no event the
// feed sent has it. It comes of another database, or of this one before
// it was restored from an older backup, and the feed would send nothing
// until the log reached it, then only what came after (nil when the
// head cannot be told now). It refuses as well a position inside the log
// that the store cannot read from (EventStoreDB: no event's): a followed
// feed learns that only after its 200 has gone out.
func (f *feed) beyondLog(ctx context.Context, fq feedQuery) *kit.Problem {
	if f.pastHead == nil || fq.after == eventstore.Start {
		return nil
	}
	past, err := f.pastHead(ctx, fq.after)
	if errors.Is(err, eventstore.ErrInvalidPosition) {
		return noEventsID(fq)
	}
	if err != nil || !past {
		return nil
	}
	return kit.Invalid(kit.FieldProblem{Field: fq.afterFrom,
		Reason: "is past the end of the log: an id of another database, or of this one before a restore"})
}

// noEventsID refuses a position the log cannot be read from.
func noEventsID(fq feedQuery) *kit.Problem {
	return kit.Invalid(kit.FieldProblem{Field: fq.afterFrom,
		Reason: "is no event's id in this log: resume after an id the feed sent"})
}

// backlogPage is how many events a follow=false feed reads at a time.
const backlogPage = 500

// backlog sends what the log holds now, page by page, from page, the
// first. A later page that cannot be read, or the purchase naming an
// event's ordering partner (Orders.Name), ends the stream with an event
// named error, whose data is a problem document: the stream alone ends
// the same way when the log is all sent. Resume after the last id
// received.
func (f *feed) backlog(ctx context.Context, w http.ResponseWriter, fq feedQuery, scope scope, page []eventstore.RecordedEvent) {
	after := fq.after
	for len(page) > 0 {
		for i := range page {
			if err := f.send(ctx, w, &page[i], fq, scope); err != nil {
				// A purchase that cannot be read (errNotNamed) cuts the
				// stream short as the log does; a client gone needs nothing.
				if errors.Is(err, errNotNamed) && ctx.Err() == nil {
					_, _ = fmt.Fprintf(w, "event: error\ndata: %s\n\n", cutShort(after))
				}
				return
			}
			after = page[i].Position
		}
		var err error
		if page, err = f.store.ReadAll(ctx, after, backlogPage); err != nil {
			if ctx.Err() == nil {
				f.log.ErrorContext(ctx, "feed read", "after", after.String(), "error", err)
				_, _ = fmt.Fprintf(w, "event: error\ndata: %s\n\n", cutShort(after))
			}
			return
		}
	}
}

// cutShort is the data of the error event that ends a follow=false feed
// whose log could not be read to its end.
func cutShort(after eventstore.Position) []byte {
	p := kit.NewProblem(http.StatusServiceUnavailable, "unavailable",
		"the log could not be read past "+after.String()+"; resume with Last-Event-ID "+after.String())
	b, _ := json.Marshal(p)
	return b
}

// errNotNamed is a send that could not read the purchase naming its
// event's ordering partner.
var errNotNamed = errors.New("feed: the ordering partner cannot be read")

// send writes one event if it is published, wanted and visible. A
// subscription's purchase that cannot be read to name its partner ends
// the stream, as a log that cannot be read does: the client resumes
// after the last id it got. One that is gone or does not decode names
// none (integration.Orders).
func (f *feed) send(ctx context.Context, w http.ResponseWriter, rec *eventstore.RecordedEvent, fq feedQuery, scope scope) error {
	ie, ok, err := integration.FromStored(rec.Type, rec.Data, rec.Metadata, rec.Stream, rec.Revision, rec.Position.String())
	if err != nil {
		// Left out, not stopped at as the publisher and the webhook
		// worker do: every caller's feed reads the one log, and an
		// event nobody can say whose it is would stop them all.
		if _, logged := f.undecodable.LoadOrStore(rec.Position, true); !logged {
			f.log.Error("feed: an event does not decode and is left out", "event", rec.ID, "position", rec.Position.String(), "type", rec.Type, "error", err)
		}
		return nil
	}
	if !ok || len(fq.types) > 0 && !slices.Contains(fq.types, ie.Type) || fq.account != "" && ie.AccountID != fq.account {
		return nil // internal, or not asked for: no purchase to read for it
	}
	if err := f.orders.Name(ctx, &ie, rec.Stream); err != nil {
		f.log.ErrorContext(ctx, "feed: the ordering partner cannot be read; the stream ends", "position", rec.Position.String(), "error", err)
		return fmt.Errorf("%w: %w", errNotNamed, err)
	}
	if !scope.sees(ie, rec.Position) {
		return nil
	}
	_, err = fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", ie.Position, ie.Type, ie.JSON())
	return err
}
