package webhooks

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/projections"
)

// The headers of a delivery. The signature is the lower-case hex
// HMAC-SHA256, keyed with the endpoint's secret, of the timestamp, a dot
// and the body: "v1=<hex>". A receiver recomputes it and refuses a
// timestamp more than a few minutes old, so a captured delivery cannot be
// replayed later.
const (
	HeaderID        = "Webhook-Id"
	HeaderTimestamp = "Webhook-Timestamp"
	HeaderSignature = "Webhook-Signature"
)

// Sign is the Webhook-Signature of a body sent at a time.
func Sign(secret string, at time.Time, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(at.Unix(), 10) + "."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// SignAll is the Webhook-Signature of a body signed with each secret
// given (empty ones are skipped), separated by spaces: while a rotated
// secret is still valid, deliveries carry a signature with each, and a
// receiver holding either accepts them.
func SignAll(at time.Time, body []byte, secrets ...string) string {
	var sigs []string
	for _, s := range secrets {
		if s != "" {
			sigs = append(sigs, Sign(s, at, body))
		}
	}
	return strings.Join(sigs, " ")
}

// Verify reports whether a Webhook-Signature header holds the signature,
// with secret, of body sent at at: what a receiver checks.
func Verify(secret string, at time.Time, body []byte, header string) bool {
	want := []byte(Sign(secret, at, body))
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), want) {
			return true
		}
	}
	return false
}

// Settings tune the worker; zero values take the defaults.
type Settings struct {
	// Client posts the deliveries (default: 10-second timeout, public
	// internet addresses only unless the worker's Policy allows private
	// ones; see publicClient). Tests posting to a local TLS server give
	// their own.
	Client *http.Client
	// Backoff is the pause after a delivery's first failure, doubled after
	// each further one up to MaxBackoff (defaults 1s and 10 minutes).
	Backoff, MaxBackoff time.Duration
	// PauseAfter failures in a row pause the endpoint (default 10).
	PauseAfter int
	// Poll is how often the worker looks for due deliveries (default 500ms).
	Poll time.Duration
	// Now is the clock that tells which deliveries are past Kept (default
	// the system's).
	Now func() time.Time
}

// Worker posts queued deliveries.
type Worker struct {
	Pool *pgxpool.Pool
	Log  *slog.Logger
	// Policy chooses the default client: with AllowPrivate, one that
	// posts to any address.
	Policy Policy
	mu     sync.Mutex
	set    Settings
}

// Configure replaces the settings, also while the worker runs.
func (w *Worker) Configure(s Settings) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.set = s
}

func (w *Worker) settings() Settings {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.set
	if s.Client == nil {
		s.Client = w.Policy.client()
	}
	s.Backoff = cmp.Or(s.Backoff, time.Second)
	s.MaxBackoff = cmp.Or(s.MaxBackoff, 10*time.Minute)
	s.PauseAfter = cmp.Or(s.PauseAfter, 10)
	s.Poll = cmp.Or(s.Poll, 500*time.Millisecond)
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}

// Run delivers until ctx ends. Each post goes on its own: a slow
// endpoint (up to its answer limit) holds up only its own next delivery,
// never another endpoint's. The worker claims again whenever a post is
// recorded (the endpoint's next delivery may be due), and every Poll.
// Beside the posts it deletes the deliveries past Kept (prune).
func (w *Worker) Run(ctx context.Context) {
	var posts sync.WaitGroup
	defer posts.Wait()
	slots := make(chan struct{}, maxPosts)
	recorded := make(chan struct{}, 1)
	posts.Go(func() { w.prune(ctx) })
	for {
		s := w.settings()
		batch, err := w.claim(ctx, s, maxPosts-len(slots))
		if err != nil && ctx.Err() == nil {
			cmp.Or(w.Log, slog.Default()).Error("webhook deliveries", "error", err)
		}
		for _, d := range batch {
			slots <- struct{}{}
			posts.Go(func() {
				w.deliver(ctx, s, d)
				<-slots
				select {
				case recorded <- struct{}{}:
				default:
				}
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-recorded:
		case <-time.After(s.Poll):
		}
	}
}

// prune deletes what is past Kept once pruneEvery has passed on the
// worker's clock (looking every Poll), until ctx ends. It runs beside the
// posts: the first prune after an upgrade from a release that kept every
// delivery deletes the whole backlog, and between a claim and its posts
// it held what was just claimed for all that time (past claimFor, when
// another worker posted it too).
func (w *Worker) prune(ctx context.Context) {
	var pruned time.Time
	for {
		s := w.settings()
		if now := s.Now(); now.Sub(pruned) >= pruneEvery {
			pruned = now
			if _, err := Prune(ctx, w.Pool, now.Add(-Kept)); err != nil && ctx.Err() == nil {
				cmp.Or(w.Log, slog.Default()).Error("pruning delivered webhook deliveries", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.Poll):
		}
	}
}

// maxPosts bounds the posts one worker has in flight: the endpoints
// beyond it wait for a free slot, their deliveries unclaimed meanwhile
// (a claim lapses in claimFor).
const maxPosts = 64

// due is the oldest undelivered delivery of an active endpoint.
type due struct {
	id       int64
	endpoint uuid.UUID
	eventID  uuid.UUID
	url      string
	secret   string
	// previous is a rotated secret still valid ("" when none).
	previous string
	payload  []byte
	// failures is the endpoint's failures in a row, the backoff's
	// exponent: a resume sets them to 0, so that the tries after it start
	// again at Backoff, where the delivery's own attempts, which a resume
	// keeps, had the first failure after it wait MaxBackoff.
	failures int
	// claimed is the next attempt the claim set: the delivery's outcome
	// is recorded only while it still stands (record).
	claimed time.Time
}

// claimFor is how long a worker owns a delivery it is posting: the head
// delivery of an endpoint is claimed by moving its next attempt that far
// ahead, so that the workers of other instances on the database leave the
// endpoint alone until it is recorded (or, after a crash, until the claim
// lapses and the delivery is sent again). A post never outlasts it.
const (
	claimFor    = time.Minute
	postTimeout = claimFor / 2
)

// Once claims and tries the oldest due delivery of each active endpoint
// (of at most maxPosts), waits for their outcomes, and returns how many it
// tried.
func (w *Worker) Once(ctx context.Context, s Settings) (int, error) {
	batch, err := w.claim(ctx, s, maxPosts)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, d := range batch {
		wg.Go(func() { w.deliver(ctx, s, d) })
	}
	wg.Wait()
	return len(batch), nil
}

// claim claims the oldest due delivery of up to limit active endpoints,
// the longest due first. Of several workers on one database, one claims a
// given delivery; an endpoint's next delivery is due only once the one
// before it is delivered, so each endpoint still gets one post at a time,
// in order. The claim passes over deliveries another worker is claiming
// or recording (SKIP LOCKED) rather than wait for them: its UPDATE locked
// them in whatever order its plan met them, and with three instances two
// claims now and then waited on each other, a deadlock PostgreSQL ended
// with an error.
func (w *Worker) claim(ctx context.Context, s Settings, limit int) ([]due, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := w.Pool.Query(ctx, `
		WITH heads AS (
		  SELECT head.id FROM webhook_endpoints a
		    JOIN LATERAL (SELECT h.id, h.next_attempt_at FROM webhook_deliveries h
		                   WHERE h.endpoint_id = a.id AND h.delivered_at IS NULL
		                   ORDER BY h.id LIMIT 1) head ON true
		   WHERE a.state = 'active' AND head.next_attempt_at <= now()
		   ORDER BY head.next_attempt_at LIMIT $2
		), mine AS (
		  SELECT d.id FROM webhook_deliveries d
		   WHERE d.id IN (SELECT id FROM heads) AND d.delivered_at IS NULL AND d.next_attempt_at <= now()
		     FOR UPDATE SKIP LOCKED
		)
		UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $1)
		  FROM webhook_endpoints e
		 WHERE d.id IN (SELECT id FROM mine) AND e.id = d.endpoint_id AND e.state = 'active'
		RETURNING d.id, d.endpoint_id, d.event_id, e.url, e.secret,
		          CASE WHEN e.previous_secret_until > now() THEN e.previous_secret ELSE '' END, d.payload, e.consecutive_failures, d.next_attempt_at`,
		claimFor.Seconds(), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (due, error) {
		var d due
		return d, r.Scan(&d.id, &d.endpoint, &d.eventID, &d.url, &d.secret, &d.previous, &d.payload, &d.failures, &d.claimed)
	})
}

// deliver posts a claimed delivery and records its outcome.
func (w *Worker) deliver(ctx context.Context, s Settings, d due) {
	status, err := w.post(ctx, s.Client, d)
	if err != nil && ctx.Err() != nil {
		// The worker is stopping and cut the post short: that is no
		// answer of the endpoint's, and counted as its failure it would
		// back off the delivery, list an error to the administrators and,
		// at PauseAfter, pause an endpoint that never failed. The claim is
		// given back for the next worker to post it at once.
		if rerr := w.release(d); rerr != nil {
			cmp.Or(w.Log, slog.Default()).Error("release webhook delivery", "endpoint", d.endpoint, "error", rerr)
		}
		return
	}
	if rerr := w.record(ctx, s, d, status, err); rerr != nil {
		cmp.Or(w.Log, slog.Default()).Error("record webhook delivery", "endpoint", d.endpoint, "error", rerr)
	}
}

// post sends one delivery; a status other than 2xx (a redirect too) is an
// error.
func (w *Worker) post(ctx context.Context, c *http.Client, d due) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	// A redirect is not followed: it is an answer other than 2xx. Followed,
	// a 301, 302 or 303 would turn the POST into a GET without the event,
	// and the other end's 2xx would count as delivered.
	noRedirect := *c
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.payload))
	if err != nil {
		return 0, err
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set(HeaderID, d.eventID.String())
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, SignAll(now, d.payload, d.secret, d.previous))
	resp, err := noRedirect.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the endpoint answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// record saves a delivery's outcome and the endpoint's last status:
// success resets the endpoint's failures; a failure schedules the next
// attempt with backoff, and pauses the endpoint at PauseAfter failures in
// a row. A claim that lapsed (the worker stalled) and was taken by
// another worker records nothing: the delivery is that worker's now, and
// a late failure would count against an endpoint it may have delivered to.
// Nor does one of a removed endpoint.
func (w *Worker) record(ctx context.Context, s Settings, d due, status int, sendErr error) error {
	ctx = context.WithoutCancel(ctx)
	var msg *string
	if sendErr != nil {
		// Text PostgreSQL takes: an error from deeper down (a
		// certificate's name, say) may carry bytes it refuses.
		m := cut(strings.ReplaceAll(strings.ToValidUTF8(sendErr.Error(), "\uFFFD"), "\x00", ""), 500)
		msg = &m
	}
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		// The endpoint is locked before its delivery, in the order its
		// removal takes them (the endpoint, then its deliveries by
		// cascade): the other order deadlocks with a removal in between.
		// A removed endpoint has no outcome to record. The transaction
		// ends after 10 s idle, as a consumer's step does: a worker
		// stopped half way (SIGSTOP) held the endpoint and its delivery
		// until it went on, and the endpoint got nothing meanwhile
		// (claims pass over a delivery that is locked).
		var bound string
		if err := tx.QueryRow(ctx, `SELECT `+projections.IdleBound+`
			FROM webhook_endpoints WHERE id = $1 FOR NO KEY UPDATE`, d.endpoint).Scan(&bound); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return err
		}
		if sendErr == nil {
			tag, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at = now(), last_status = $2, last_error = NULL
				WHERE id = $1 AND next_attempt_at = $3 AND delivered_at IS NULL`, d.id, status, d.claimed)
			if err != nil || tag.RowsAffected() == 0 {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE webhook_endpoints SET consecutive_failures = 0, last_status = $2, last_error = NULL,
				last_attempt_at = now(), last_success_at = now() WHERE id = $1`, d.endpoint, status)
			return err
		}
		backoff := s.Backoff << min(d.failures, 30)
		if backoff <= 0 || backoff > s.MaxBackoff {
			backoff = s.MaxBackoff
		}
		tag, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $2, last_error = $3,
			next_attempt_at = now() + make_interval(secs => $4) WHERE id = $1 AND next_attempt_at = $5 AND delivered_at IS NULL`,
			d.id, nullStatus(status), msg, backoff.Seconds(), d.claimed)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1,
			last_status = $2, last_error = $3, last_attempt_at = now(),
			state = CASE WHEN consecutive_failures + 1 >= $4 THEN 'paused' ELSE state END,
			paused_at = CASE WHEN consecutive_failures + 1 >= $4 AND state = 'active' THEN now() ELSE paused_at END
			WHERE id = $1`, d.endpoint, nullStatus(status), msg, s.PauseAfter)
		return err
	})
}

// release gives back the claim on a delivery left unanswered, while it
// still stands: it is due again at once, with nothing recorded.
func (w *Worker) release(d due) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := w.Pool.Exec(ctx, `UPDATE webhook_deliveries SET next_attempt_at = now()
		WHERE id = $1 AND next_attempt_at = $2 AND delivered_at IS NULL`, d.id, d.claimed)
	return err
}

// cut is s in at most n bytes, cut between characters: the error of a
// post quotes the URL, whose query may hold any character, and a
// character cut in two is no UTF-8, which PostgreSQL refuses to store
// (the outcome would then never be recorded).
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func nullStatus(s int) *int {
	if s == 0 {
		return nil
	}
	return &s
}

// ErrNotFound: no such endpoint in the account.
var ErrNotFound = errors.New("no such webhook")
