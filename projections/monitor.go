package projections

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Lagger is a store that can tell how far a consumer is behind.
type Lagger interface {
	Lag(ctx context.Context, after eventstore.Position) (head eventstore.Position, events int64, oldest time.Time, err error)
}

// States of a consumer.
const (
	StateCatchingUp = "catching_up"
	StateLive       = "live"
	StateStalled    = "stalled"
	StateFailing    = "failing"
)

// liveLag is the lag under which a consumer counts as live.
const liveLag = 100

// Status is one consumer as operators see it.
type Status struct {
	Name       string  `json:"name"`
	Version    int     `json:"version,omitempty"`
	Build      string  `json:"build,omitempty"`
	Checkpoint string  `json:"checkpoint"`
	Head       string  `json:"head"`
	LagEvents  int64   `json:"lagEvents"`
	LagSeconds float64 `json:"lagSeconds"`
	State      string  `json:"state"`
	Leader     string  `json:"leader,omitempty"`
	LastError  string  `json:"lastError,omitempty"`
	// DeadLetters is how many of its events are parked or wait behind
	// one: read from the database, so every instance reports them, where
	// only the leader sees the handler fail (failing, lastError).
	DeadLetters int64 `json:"deadLetters"`
	// IndexesPending: the active build is a first build still waiting
	// for its readers' indexes (see EnsureOver); searches are slower
	// until the engine has made them.
	IndexesPending bool `json:"indexesPending,omitempty"`
	// SampledAt is when this was read. Samples stop while the database
	// cannot be reached: an old one says the rest is as it was then.
	SampledAt time.Time `json:"sampledAt"`

	// checkpoint and head are Checkpoint and Head as positions, for the
	// metrics (head zero when the store tells none).
	checkpoint, head eventstore.Position
	// building is where the builds of another version than the active
	// one stand (see buildsSQL): while one is made, the handler waits
	// and the active build stands still, and the build moving is the
	// projector moving.
	building string
}

// Monitor samples every consumer's progress once a second, from the
// database, so every instance reports the same whoever leads. A consumer
// is stalled when the head moved and its checkpoint did not for
// StallAfter, failing or not; failing when its handler failed within the
// last StallAfter (and it is not stalled). While a build of a
// projector's new version is made in the background and no instance
// leads it, that build's checkpoint counts too: the active build stands
// still meanwhile.
type Monitor struct {
	Pool       *pgxpool.Pool
	Store      eventstore.Store
	Topics     []string
	StallAfter time.Duration

	mu     sync.Mutex
	last   map[string]Status
	moved  map[string]time.Time // when the checkpoint last moved (or the consumer was caught up)
	errs   map[string]error
	errAt  map[string]time.Time
	gauges *prometheus.GaugeVec
	// now is the monitor's clock (time.Now; tests set their own).
	now func() time.Time
	// sampleWait bounds one sample (sampleTimeout; tests set their own).
	sampleWait time.Duration
}

// sampleTimeout bounds a sample: a call stuck for good (in an EventStoreDB
// client that closed itself, say) stopped the monitor for good, and with
// it every stall and lag it reports.
const sampleTimeout = 10 * time.Second

// NewMonitor watches the given topics.
func NewMonitor(pool *pgxpool.Pool, store eventstore.Store, stallAfter time.Duration, topics ...string) *Monitor {
	return &Monitor{
		Pool: pool, Store: store, Topics: topics, StallAfter: stallAfter,
		now: time.Now, sampleWait: sampleTimeout,
		last: map[string]Status{}, moved: map[string]time.Time{}, errs: map[string]error{}, errAt: map[string]time.Time{},
		gauges: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "bizcenter_projection", Help: "Per projector: lag_events, lag_seconds, dead_letters (parked or waiting), " +
				"state (1 for the current one), checkpoint and head (their commit and prepare parts: checkpoint_commit, ...), " +
				"and sampled_at (Unix seconds of the sample the others come from: it stops while the database cannot be reached).",
		}, []string{"projector", "measure"}),
	}
}

// Collector is the monitor's Prometheus metrics.
func (m *Monitor) Collector() prometheus.Collector { return m.gauges }

// Observe records a handler's outcome (wrap handlers with it). A handler
// whose context ended (this process lost its lead on the topic, or
// stops) has not failed: counted, it showed the consumer failing for
// StallAfter after a lost lease, back at the head on another instance or
// this one, and fired every alert on that state.
func (m *Monitor) Observe(topic string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil && !errors.Is(err, context.Canceled) {
		m.errs[topic], m.errAt[topic] = err, m.now()
	}
}

// Run samples until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		sctx, cancel := context.WithTimeout(ctx, m.sampleWait)
		_ = m.Sample(sctx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// position sets the gauges of a position of a topic: its commit and
// prepare parts.
func (m *Monitor) position(topic, name string, at eventstore.Position) {
	m.gauges.WithLabelValues(topic, name+"_commit").Set(float64(at.Commit))
	m.gauges.WithLabelValues(topic, name+"_prepare").Set(float64(at.Prepare))
}

// buildsSQL tells where the builds of projector $1 of another version
// than the active build's ($2) stand: a newer version's, which a release
// makes in the background before its handler writes again (Engine.Prepare),
// or an older one's a roll back makes. Those a verify makes, of the
// active version, and the replaced ones waiting to be dropped, are left
// out.
const buildsSQL = `
	SELECT coalesce(string_agg(b.schema_name || ' ' || coalesce(c.commit_pos || '-' || c.prepare_pos, ''), ',' ORDER BY b.schema_name), '')
	  FROM projection_builds b LEFT JOIN projection_checkpoints c ON c.name = b.schema_name
	 WHERE b.name = $1 AND b.version <> $2 AND b.purpose <> ALL ($3::text[])`

// Sample reads every consumer's progress now.
func (m *Monitor) Sample(ctx context.Context) error {
	var errs []error
	for _, topic := range m.Topics {
		st, err := m.sample(ctx, topic)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", topic, err))
			continue
		}
		st.SampledAt = m.now().UTC().Truncate(time.Millisecond)
		m.mu.Lock()
		m.last[topic] = st
		m.mu.Unlock()
		m.gauges.WithLabelValues(topic, "lag_events").Set(float64(st.LagEvents))
		m.gauges.WithLabelValues(topic, "lag_seconds").Set(st.LagSeconds)
		m.gauges.WithLabelValues(topic, "dead_letters").Set(float64(st.DeadLetters))
		m.gauges.WithLabelValues(topic, "sampled_at").Set(float64(st.SampledAt.UnixMilli()) / 1000)
		m.position(topic, "checkpoint", st.checkpoint)
		if st.Head != "" {
			m.position(topic, "head", st.head)
		}
		for _, s := range []string{StateCatchingUp, StateLive, StateStalled, StateFailing} {
			v := 0.0
			if s == st.State {
				v = 1
			}
			m.gauges.WithLabelValues(topic, "state_"+s).Set(v)
		}
	}
	return errors.Join(errs...)
}

func (m *Monitor) sample(ctx context.Context, topic string) (Status, error) {
	st := Status{Name: topic}
	a, at, err := activeAt(ctx, m.Pool, topic)
	switch {
	case errors.Is(err, ErrNoVersion): // a consumer, or a projector before its first build
		if at, err = LoadCheckpoint(ctx, m.Pool, topic); err != nil {
			return st, err
		}
	case err != nil:
		return st, err
	default:
		st.Version, st.Build = a.Version, a.Schema
		if st.IndexesPending, err = indexesPending(ctx, m.Pool, topic); err != nil {
			return st, err
		}
	}
	st.checkpoint, st.Checkpoint = at, at.String()
	if err := m.Pool.QueryRow(ctx, `SELECT count(*) FROM projection_dead_letters WHERE projector = $1 AND status IN ('parked', 'waiting')`,
		topic).Scan(&st.DeadLetters); err != nil {
		return st, err
	}
	// The row outlives its leader: name the holder only while a session
	// holds the topic's lock (a bigint key shows in pg_locks as classid,
	// its high 32 bits, and objid, its low ones).
	_ = m.Pool.QueryRow(ctx, `
		SELECT l.holder FROM projection_leaders l, (SELECT `+leadKey+` AS k) h
		 WHERE l.topic = $1 AND EXISTS (
		       SELECT FROM pg_locks p
		        WHERE p.locktype = 'advisory' AND p.granted AND p.objsubid = 1
		          AND p.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		          AND p.classid = ((h.k >> 32) & 4294967295)::oid AND p.objid = (h.k & 4294967295)::oid)`,
		topic).Scan(&st.Leader)
	if st.Build != "" && st.Leader == "" {
		// No instance leads it: those of a release with another version
		// leave its lead to the others (Feed.versionApart), and there
		// are none. An instance that leads it writes the active build,
		// and a build beside it moving must not hide that one's stall.
		if err := m.Pool.QueryRow(ctx, buildsSQL, topic, st.Version, []string{purposeVerify, purposeReplaced}).Scan(&st.building); err != nil {
			return st, err
		}
	}
	if l, ok := m.Store.(Lagger); ok {
		head, events, oldest, err := l.Lag(ctx, at)
		if err != nil {
			return st, err
		}
		st.head, st.Head, st.LagEvents = head, head.String(), events
		if !oldest.IsZero() {
			// By this process's clock, and oldest by the database's (or
			// EventStoreDB's): one running ahead must not make it
			// negative.
			st.LagSeconds = max(0, m.now().Sub(oldest).Seconds())
		}
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	// The stall clock runs from when the consumer last moved (or a build
	// of its new version did) or the log last moved ahead of a caught-up
	// consumer.
	prev, seen := m.last[topic]
	if !seen || prev.Checkpoint != st.Checkpoint || prev.building != st.building || prev.LagEvents == 0 || st.LagEvents == 0 {
		m.moved[topic] = now
	}
	failing := m.errs[topic] != nil && now.Sub(m.errAt[topic]) < m.StallAfter
	if failing {
		st.LastError = m.errs[topic].Error()
	}
	// A stall wins over a failure: a handler that fails on every try (an
	// event it cannot write) keeps failing within StallAfter for good, and
	// its leader, the one instance that sees it fail, went on answering
	// /readyz 200 while every other instance said stalled.
	switch {
	case st.LagEvents > 0 && now.Sub(m.moved[topic]) >= m.StallAfter:
		st.State = StateStalled
	case failing:
		st.State = StateFailing
	case st.LagEvents <= liveLag:
		st.State = StateLive
	default:
		st.State = StateCatchingUp
	}
	return st, nil
}

// Snapshot is the latest sample of every consumer, by name.
func (m *Monitor) Snapshot() []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(m.last))
	for _, s := range m.last {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Stalled names a stalled consumer, or nil (for /readyz).
func (m *Monitor) Stalled() error {
	for _, s := range m.Snapshot() {
		if s.State == StateStalled {
			return fmt.Errorf("projector %s is stalled at %s (head %s, %d events behind)", s.Name, s.Checkpoint, s.Head, s.LagEvents)
		}
	}
	return nil
}
