package httpapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// IdempotencyHeader is the request header naming a command request, so
// that a client may send it again safely.
const IdempotencyHeader = "Idempotency-Key"

// resendRequestPath takes no idempotency key: its answer is the same 202
// whatever happens, and repeats are already bounded by its rate limits.
const resendRequestPath = "/v1/invitations/resend-request"

// IdempotencyConfig tunes IdempotencyKeys.
type IdempotencyConfig struct {
	// TTL is how long a key's answer is kept (default 24 hours).
	TTL time.Duration
	// Lease is how long a running first request holds its key without
	// renewing it (default 30 seconds; it renews every third of it): a key
	// whose process died is free again, for a retry, after at most Lease.
	Lease time.Duration
	// HashKey keys the fingerprints of requests kept with their keys
	// (HMAC-SHA-256). A body may hold card details: without a secret key,
	// whoever reads the table could find a card number by hashing every
	// number of a card range. It must stay the same across restarts and
	// instances, or repeats after a restart would look like other requests.
	HashKey []byte
	Log     *slog.Logger
}

// IdempotencyKeys remembers, in PostgreSQL (table idempotency_keys), the
// answers of command requests sent with an Idempotency-Key header. Keys are
// scoped by the caller's subject ("anonymous" without a token) and the
// route. The same key with the same request (method, path and body)
// replays the first answer with Idempotent-Replayed: true, and runs
// nothing; with another request it is a 422; while the first request runs,
// a 409. Answers of 5xx are not kept, so the client may retry; nor are
// 400s, nor answers that ask to be tried again (kept reports whether an
// answer is).
// The command runs with the scoped key and the request's fingerprint in
// its context, so the ids it makes derive from both
// (commands.WithIdempotencyKey): a retry after an answer was lost appends
// nothing twice, and another request with an expired key runs anew.
type IdempotencyKeys struct {
	pool    *pgxpool.Pool
	cfg     IdempotencyConfig
	swept   atomic.Int64 // unix nanoseconds of the last sweep
	renewal time.Duration
}

// NewIdempotencyKeys makes the keys' store.
func NewIdempotencyKeys(pool *pgxpool.Pool, cfg IdempotencyConfig) *IdempotencyKeys {
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &IdempotencyKeys{pool: pool, cfg: cfg, renewal: cfg.Lease / 3}
}

// UseIdempotency makes the command routes honour Idempotency-Key; call it
// before serving.
func (s *Server) UseIdempotency(k *IdempotencyKeys) { s.keys = k }

// idempotent wraps a command route (POST, PUT, PATCH or DELETE under /v1/,
// but the resend request) so that it honours Idempotency-Key.
func (s *Server) idempotent(route kit.Route, next http.Handler) http.Handler {
	if !takesIdempotencyKey(route) {
		return next
	}
	scope := route.Method + " " + route.Path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.keys == nil {
			next.ServeHTTP(w, r)
			return
		}
		s.keys.serve(scope, next, w, r)
	})
}

// takesIdempotencyKey says whether a route honours Idempotency-Key.
func takesIdempotencyKey(route kit.Route) bool {
	switch route.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return false
	}
	return strings.HasPrefix(route.Path, "/v1/") && route.Path != resendRequestPath
}

// keyRow names one key's row.
type keyRow struct{ principal, route, key string }

// scoped is the key as the command sees it: the row's, the request's
// fingerprint, and the key's lifetime (when it was claimed new, or
// expired). The ids a command makes derive from it, so the same request
// run again (its holder died, or it answered a 5xx) finds its own work;
// but another request with the key, once the key expired or its first
// request's 5xx freed it, must make other ids: with the first request's,
// the store would take its appends for the first request's and it would
// answer with the first request's entity, doing nothing. So must the same
// request once the key expired, which counts as new: with the ids of the
// key's earlier lifetime it answered as that run had (an assignment
// undone since: 201 "active", assigning nobody).
func (k keyRow) scoped(fingerprint []byte, lifetime int64) string {
	return k.principal + "\x00" + k.route + "\x00" + k.key + "\x00" + hex.EncodeToString(fingerprint) + "\x00" + strconv.FormatInt(lifetime, 10)
}

// freed holds a key whose first request failed (a 5xx, a 400, a
// try-again or a panic): any request may claim it, in the same lifetime,
// so that the same request run again finds its own work.
var freed = uuid.Nil

// answer is a kept answer, or a first request still running (status 0).
type answer struct {
	hash        []byte
	status      int
	contentType string
	body        []byte
}

func (k *IdempotencyKeys) serve(route string, next http.Handler, w http.ResponseWriter, r *http.Request) {
	values, sent := r.Header[IdempotencyHeader]
	if !sent {
		next.ServeHTTP(w, r)
		return
	}
	if len(values) != 1 || !validKey(values[0]) {
		kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: IdempotencyHeader, Reason: "one header of 1 to 255 printable ASCII characters"}))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, kit.MaxBody))
	if err != nil {
		kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: "body", Reason: "unreadable or larger than the limit"}))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	row := keyRow{principal: "anonymous", route: route, key: values[0]}
	if p, ok := kit.PrincipalFrom(r.Context()); ok && p.Subject != "" {
		row.principal = p.Subject
	}
	mac := hmac.New(sha256.New, k.cfg.HashKey)
	mac.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
	mac.Write(body)
	sum := mac.Sum(nil)
	holder := uuid.New()
	first, lifetime, err := k.claim(r.Context(), row, sum, holder)
	switch {
	case err != nil:
		if r.Context().Err() != nil {
			// The client went away (it gave up on a process stopped
			// under its request, say): no fault here.
			k.cfg.Log.InfoContext(r.Context(), "idempotency key not checked: the request ended", "route", route, "error", err)
		} else {
			k.cfg.Log.ErrorContext(r.Context(), "idempotency key", "route", route, "error", err)
		}
		p := kit.NewProblem(http.StatusServiceUnavailable, "unavailable", "idempotency keys cannot be checked now; try again")
		p.RetryAfter = 1
		kit.WriteProblem(w, p)
	case first == nil:
		k.run(row, sum, lifetime, holder, next, w, r)
	case !bytes.Equal(first.hash, sum):
		kit.WriteProblem(w, kit.NewProblem(http.StatusUnprocessableEntity, "idempotency-key-reused",
			"this Idempotency-Key was used for another request (method, path or body); use a new key"))
	case first.status == 0:
		p := kit.NewProblem(http.StatusConflict, "idempotency-key-in-progress", "the first request with this Idempotency-Key is still running; try again")
		p.RetryAfter = 1
		kit.WriteProblem(w, p)
	default:
		if first.contentType != "" {
			w.Header().Set("Content-Type", first.contentType)
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(first.status)
		_, _ = w.Write(first.body)
	}
}

// validKey: 1 to 255 printable ASCII characters.
func validKey(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// run runs the first request of a key, holding the key while it runs, and
// keeps its answer unless it is a 5xx.
func (k *IdempotencyKeys) run(row keyRow, fingerprint []byte, lifetime int64, holder uuid.UUID, next http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w}
	renewing, stop := context.WithCancel(context.WithoutCancel(r.Context()))
	go k.renew(renewing, row, holder)
	done := false
	defer func() {
		stop()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		var err error
		if done && kept(rec.status, w.Header()) {
			_, err = k.pool.Exec(ctx, `UPDATE idempotency_keys SET status = $5, content_type = $6, body = $7, locked_until = NULL
				WHERE principal = $1 AND route = $2 AND key = $3 AND holder = $4 AND status IS NULL`,
				row.principal, row.route, row.key, holder, rec.status, w.Header().Get("Content-Type"), rec.body.Bytes())
		} else {
			// A 5xx, a 400, a try-again or a panic: free the key for a
			// retry, or another request, in the same lifetime (its lease
			// ended: an older instance takes it as its holder's death).
			_, err = k.pool.Exec(ctx, `UPDATE idempotency_keys SET holder = $5, locked_until = now()
				WHERE principal = $1 AND route = $2 AND key = $3 AND holder = $4 AND status IS NULL`,
				row.principal, row.route, row.key, holder, freed)
		}
		if err != nil {
			k.cfg.Log.ErrorContext(ctx, "idempotency key not completed", "route", row.route, "error", err)
		}
	}()
	next.ServeHTTP(rec, r.WithContext(commands.WithIdempotencyKey(r.Context(), row.scoped(fingerprint, lifetime))))
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	done = true
}

// kept reports whether the answer of a key's first request is kept and
// replayed. A 400 is not, as a 5xx is not: the request was refused as it
// was written, before the command decided anything, so the client may
// correct the body and send it with the same key (and a replayed 400
// could never be got past: the corrected body would be the key's "another
// request", a 422). Running it again is safe for the same reason a 5xx
// is: the ids a command makes derive from the key and the request, so a
// run again of the same body finds its own work. What a command decided
// (a 2xx, 403, 404, 409 or 422) is kept: running it again could decide
// otherwise. An answer that asks to be tried again (Retry-After: the 409
// of a conflict the command's own retries did not get past, as a 503's)
// decided nothing either, and is not kept: kept, the retry it asks for,
// sent with the same key, would replay it until the key expired.
func kept(status int, h http.Header) bool {
	return status < 500 && status != http.StatusBadRequest && h.Get("Retry-After") == ""
}

// renew extends the lease of a running first request until ctx ends.
func (k *IdempotencyKeys) renew(ctx context.Context, row keyRow, holder uuid.UUID) {
	t := time.NewTicker(k.renewal)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, err := k.pool.Exec(ctx, `UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $5)
				WHERE principal = $1 AND route = $2 AND key = $3 AND holder = $4 AND status IS NULL`,
				row.principal, row.route, row.key, holder, k.cfg.Lease.Seconds())
			if err != nil && ctx.Err() == nil {
				k.cfg.Log.WarnContext(ctx, "idempotency key lease not renewed", "route", row.route, "error", err)
			}
		}
	}
}

// claim takes a key for a first request (nil answer): a new key, an
// expired one, one whose first request failed (freed), or one whose first
// request with the same hash died without an answer; lifetime is when
// the key was new or expired, in unix microseconds, kept when a key is
// taken over (freed, or its holder dead): the run again finds what the
// earlier run of its lifetime did. Otherwise it returns what the key
// holds.
func (k *IdempotencyKeys) claim(ctx context.Context, row keyRow, hash []byte, holder uuid.UUID) (*answer, int64, error) {
	k.sweep()
	for range 3 {
		var lifetime time.Time
		err := k.pool.QueryRow(ctx, `
			INSERT INTO idempotency_keys AS k (principal, route, key, request_hash, holder, locked_until, expires_at)
			VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6), now() + make_interval(secs => $7))
			ON CONFLICT (principal, route, key) DO UPDATE
			   SET request_hash = EXCLUDED.request_hash, holder = EXCLUDED.holder, locked_until = EXCLUDED.locked_until,
			       created_at = CASE WHEN k.expires_at <= now() THEN now() ELSE k.created_at END,
			       expires_at = EXCLUDED.expires_at, status = NULL, content_type = NULL, body = NULL
			 WHERE k.expires_at <= now()
			    OR (k.status IS NULL AND k.holder = $8)
			    OR (k.status IS NULL AND k.locked_until <= now() AND k.request_hash = EXCLUDED.request_hash)
			RETURNING created_at`,
			row.principal, row.route, row.key, hash, holder, k.cfg.Lease.Seconds(), k.cfg.TTL.Seconds(), freed).Scan(&lifetime)
		if err == nil {
			return nil, lifetime.UnixMicro(), nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return nil, 0, err
		}
		var a answer
		var status *int
		err = k.pool.QueryRow(ctx, `SELECT request_hash, status, coalesce(content_type, ''), body FROM idempotency_keys
			WHERE principal = $1 AND route = $2 AND key = $3`, row.principal, row.route, row.key).Scan(&a.hash, &status, &a.contentType, &a.body)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // swept meanwhile: claim again
		}
		if err != nil {
			return nil, 0, err
		}
		if status != nil {
			a.status = *status
		}
		return &a, 0, nil
	}
	return &answer{hash: hash}, 0, nil // still contended: in progress
}

// sweepEvery is how often a process deletes expired keys.
const sweepEvery = time.Minute

// sweep deletes expired keys in the background, at most once a
// sweepEvery per process (expired keys count as absent meanwhile).
func (k *IdempotencyKeys) sweep() {
	last, now := k.swept.Load(), time.Now().UnixNano()
	if now-last < int64(sweepEvery) || !k.swept.CompareAndSwap(last, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := k.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE (principal, route, key) IN (
			SELECT principal, route, key FROM idempotency_keys WHERE expires_at <= now() LIMIT 10000)`)
		if err != nil {
			k.cfg.Log.Warn("idempotency keys not swept", "error", err)
		}
	}()
}

// recorder passes an answer through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
