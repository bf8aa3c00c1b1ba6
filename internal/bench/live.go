package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bizcenter/bizcenter/mailer"
)

// LiveResult is how soon the read API shows what a command did.
type LiveResult struct {
	Burst       float64 // InviteUser/s, 8 clients back to back, over the loop and the catch-up after it
	Sustainable float64 // the highest steady (paced) rate the whole service keeps up with (steadyRate)
	Rate        float64 // the paced rate measured at
	Visible     Summary // command response -> GET answers 200
	Polls       float64 // GETs a user took to be seen, on average
	After       Summary // command response -> one GET ?after=position answers 200
}

// LiveConfig sizes the live measure.
type LiveConfig struct {
	RateTime time.Duration // of the closed loop that bounds the sustainable rate
	Probe    time.Duration // of each steady probe of the sustainable rate (steadyRate)
	Time     time.Duration // of the paced measure, and of its baseline
	Poll     time.Duration // pause between GETs of a user not yet visible
	Fraction float64       // of the sustainable rate to pace at (the issue: 0.5)
	Relayed  bool          // mail goes to a relay elsewhere (relayed), not to files
}

// visibleWithin bounds one poll: a user not visible by then fails the run.
const visibleWithin = 10 * time.Second

// Live runs the whole service (projections, mailer and sweeper too) over
// dbURL. It first bounds the sustainable InviteUser rate with 8 clients
// for cfg.RateTime, back to back, counting the time the projectors and
// the mailer take to catch up after; then finds the highest steady rate
// they keep up with, starting from that (steadyRate); then invites users at
// cfg.Fraction of that steady rate, paced, for cfg.Time;
// after each response it polls GET /v1/accounts/{id}/users/{userId} (no
// ?after) every cfg.Poll until it answers 200.
func Live(ctx context.Context, dbURL string, cfg LiveConfig) (LiveResult, error) {
	var mail mailer.Sender
	if cfg.Relayed {
		mail = relayed
	}
	n, err := startNodeMailing(ctx, dbURL, "", mail)
	if err != nil {
		return LiveResult{}, err
	}
	defer n.Close()
	defer n.runProjections(ctx)()
	if err := n.register(ctx); err != nil {
		return LiveResult{}, err
	}
	users := "/v1/accounts/" + n.account.String() + "/users/"
	if _, _, err := waitVisible(n, users+n.manager.String(), cfg.Poll); err != nil {
		return LiveResult{}, err
	}

	fmt.Fprintf(os.Stderr, "live: sustainable InviteUser rate, %d clients, projections running, %v...\n", clients, cfg.RateTime)
	mark := markCPU()
	t, err := closedLoop(clients, cfg.RateTime, func(worker, i int) error {
		_, err := n.invite(fmt.Sprintf("s%d-%d@bench.example", worker, i))
		return err
	})
	if err != nil {
		return LiveResult{}, err
	}
	mark.report("live: sustainable rate")
	ended := time.Now()
	if err := caughtUp(ctx, n); err != nil {
		return LiveResult{}, err
	}
	behind := time.Since(ended)
	// A rate the projectors fall behind at is not sustained: the loop's
	// invitations count over the loop and the time the projectors and
	// consumers took to catch up after it.
	loop := time.Duration(float64(t.Latency.N) / t.Rate * float64(time.Second))
	sustained := float64(t.Latency.N) / (loop + behind).Seconds()
	fmt.Fprintf(os.Stderr, "live: %d invitations in %v (%.0f/s); every projector and consumer caught up %v after the loop ended: %.0f/s sustained\n",
		t.Latency.N, loop.Round(time.Millisecond), t.Rate, behind.Round(time.Millisecond), sustained)

	steady, err := steadyRate(ctx, n, sustained, cfg.Probe)
	if err != nil {
		return LiveResult{}, err
	}
	fmt.Fprintf(os.Stderr, "live: sustained steadily: %.0f/s\n", steady)
	r := LiveResult{Burst: sustained, Sustainable: steady, Rate: steady * cfg.Fraction}
	// The database is minutes old and its tables grew from nothing: until
	// autovacuum first analyzes them, PostgreSQL plans some queries as for
	// a handful of rows (a scan of all of mail_sent for each batch of
	// outcomes, of personal_keys for each sweep), which a database in use
	// never sees. Whether that had happened by now varied from run to run
	// (58 to 2,970 rows read an invitation).
	if _, err := n.svc.Pool().Exec(ctx, `ANALYZE`); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "live: InviteUser at %.0f/s for %v, polling the user until visible...\n", r.Rate, cfg.Time)
	waits, work := poolWaits(n.svc.Pool(), "live: service"), dbWork(ctx, n.svc.Pool(), "live: paced")
	r.Visible, r.Polls, err = pacedReads(n, r.Rate, cfg.Time, "live: paced", func(res invited) (time.Duration, int, error) {
		return waitVisible(n, users+res.UserID.String(), cfg.Poll)
	})
	waits()
	work(r.Visible.N)
	fmt.Fprintf(os.Stderr, "live: visible %v, %.1f GETs a user\n", r.Visible, r.Polls)
	if err != nil {
		return r, err
	}

	// What a dashboard does after a command: one GET with the position
	// the command answered, which the service holds until the read model
	// has it (read-your-writes).
	fmt.Fprintf(os.Stderr, "live: InviteUser at %.0f/s for %v, one GET ?after=position each...\n", r.Rate, cfg.Time)
	r.After, _, err = pacedReads(n, r.Rate, cfg.Time, "live: ?after", func(res invited) (time.Duration, int, error) {
		start := time.Now()
		status, err := n.get(users + res.UserID.String() + "?after=" + res.Position)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("GET ?after=%s: %d", res.Position, status)
		}
		return time.Since(start), 1, err
	})
	fmt.Fprintf(os.Stderr, "live: answered ?after %v\n", r.After)
	return r, err
}

// pacedReads invites at rate for d, reading each new user back with read,
// and summarizes how long the reads took and how many GETs they made.
func pacedReads(n *node, rate float64, d time.Duration, what string, read func(invited) (time.Duration, int, error)) (Summary, float64, error) {
	var timed timedReads
	var gets atomic.Int64
	mark := markCPU()
	err := paced(rate, d, func(i int) error {
		res, err := n.invite(fmt.Sprintf("%s%d@bench.example", strings.Map(emailSafe, what), i))
		if err != nil {
			return err
		}
		began := time.Now()
		took, g, err := read(res)
		timed.add(began, took)
		gets.Add(int64(g))
		return err
	})
	mark.report(what)
	s := timed.summary()
	fmt.Fprintln(os.Stderr, timed.report(what, s.P99))
	return s, float64(gets.Load()) / float64(max(1, s.N)), err
}

// emailSafe keeps the letters of a measure's name for the local part of
// its invitations' addresses.
func emailSafe(r rune) rune {
	if r >= 'a' && r <= 'z' {
		return r
	}
	return -1
}

// waitVisible polls a path until it answers 200 and says how long that
// took from the call, and in how many GETs.
func waitVisible(n *node, path string, poll time.Duration) (time.Duration, int, error) {
	start := time.Now()
	for gets := 1; ; gets++ {
		status, err := n.get(path)
		took := time.Since(start)
		switch {
		case err != nil:
			return took, gets, err
		case status == http.StatusOK:
			return took, gets, nil
		case status != http.StatusNotFound || took > visibleWithin:
			return took, gets, fmt.Errorf("GET %s: %d after %v", path, status, took)
		}
		time.Sleep(poll)
	}
}

// caughtUp waits until every projector and consumer of the feed (the
// service's monitor watches them all) has nothing left to read.
func caughtUp(ctx context.Context, n *node) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if err := n.svc.Monitor.Sample(ctx); err != nil {
			return err
		}
		var behind []string
		for _, s := range n.svc.Monitor.Snapshot() {
			if s.LagEvents > 0 {
				behind = append(behind, fmt.Sprintf("%s %d events", s.Name, s.LagEvents))
			}
		}
		if len(behind) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still behind after 5 minutes: %s", strings.Join(behind, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// LiveBaseline is the same round trip in raw PostgreSQL: an autocommit
// INSERT of an event-sized row, then a SELECT of that row by key every
// poll until it is found, at rate a second for d, over 16 connections.
func LiveBaseline(ctx context.Context, dbURL string, rate float64, d, poll time.Duration) (Summary, error) {
	fmt.Fprintf(os.Stderr, "raw INSERT then SELECT until found, at %.0f/s for %v...\n", rate, d)
	p, err := Pool(ctx, dbURL, 16)
	if err != nil {
		return Summary{}, err
	}
	defer p.Close()
	if _, err := p.Exec(ctx, `CREATE TABLE bench_live (id bigserial PRIMARY KEY, data bytea NOT NULL)`); err != nil {
		return Summary{}, err
	}
	var lat Latencies
	defer markCPU().report("raw INSERT then SELECT")
	err = paced(rate, d, func(int) error {
		var id int64
		if err := p.QueryRow(ctx, `INSERT INTO bench_live (data) VALUES ($1) RETURNING id`, eventSizedRow).Scan(&id); err != nil {
			return err
		}
		start := time.Now()
		for {
			var found bool
			if err := p.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM bench_live WHERE id = $1)`, id).Scan(&found); err != nil {
				return err
			}
			if found {
				lat.Add(time.Since(start))
				return nil
			}
			time.Sleep(poll)
		}
	})
	return lat.Summary(), err
}
