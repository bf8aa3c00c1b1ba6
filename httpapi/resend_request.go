package httpapi

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// ResendRequests takes anonymous requests to resend a purchase account
// manager's invitation. The answer is the same 202 at once, whatever the
// outcome: the check and the resend run later, in the background, so
// neither the body nor the time says whether the details matched.
// Requests are limited per source address (an answer of 429) and per
// request as the command matches it, email and numbers together
// (silently dropped past the limit): only a request that could resend
// draws on the manager's allowance, so requests with wrong guesses, from
// however many addresses, never use up the real manager's.
type ResendRequests struct {
	handler   commands.Handler[commands.RequestManagerResend, bool]
	log       *slog.Logger
	queue     chan commands.RequestManagerResend
	perSource *limiters
	perTarget *limiters
	// outcomes counts requests by what became of them, for /metrics: the
	// answer is the same whatever happens, so only here does an operator
	// see requests dropped because the queue was full.
	outcomes *prometheus.CounterVec
}

// NewResendRequests makes the intake; Run must run for requests to be
// processed.
func NewResendRequests(h commands.Handler[commands.RequestManagerResend, bool], log *slog.Logger) *ResendRequests {
	q := &ResendRequests{
		handler:   h,
		log:       log,
		queue:     make(chan commands.RequestManagerResend, 256),
		perSource: newLimiters(rate.Every(12*time.Second), 5), // 5 at once, then 5 a minute
		perTarget: newLimiters(rate.Every(20*time.Minute), 3), // 3 at once, then 3 an hour
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bizcenter_resend_requests_total",
			Help: "Anonymous invitation resend requests by outcome: queued, limited (per source, answered 429), " +
				"over_target_limit (per email and numbers, dropped silently), queue_full (dropped).",
		}, []string{"outcome"}),
	}
	// Every outcome is on /metrics from the start, at zero: a series that
	// appears only when something first goes wrong is missed by a rate().
	for _, outcome := range []string{"queued", "limited", "over_target_limit", "queue_full"} {
		q.outcomes.WithLabelValues(outcome)
	}
	return q
}

// Collector is the requests' outcome counter, for /metrics.
func (q *ResendRequests) Collector() prometheus.Collector { return q.outcomes }

// Run processes queued requests until ctx ends.
func (q *ResendRequests) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-q.queue:
			callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			resent, err := q.handler.Handle(callCtx, req)
			cancel()
			if err != nil {
				q.log.Warn("resend request failed", "error", err)
			} else if resent {
				q.log.Info("manager invitation resent on request")
			}
		}
	}
}

type resendRequestBody struct {
	Email                 string `json:"email"`
	AgreementNumber       string `json:"agreementNumber"`
	PurchaseAccountNumber string `json:"purchaseAccountNumber"`
}

type acceptedRequest struct{}

// Route declares POST /v1/invitations/resend-request.
func (q *ResendRequests) Route() kit.Route {
	return kit.Route{
		Method: http.MethodPost, Path: "/v1/invitations/resend-request", Access: kit.Anyone,
		Summary:  "Ask for the purchase account manager's invitation again; 202 whatever the outcome",
		Request:  resendRequestBody{},
		Response: acceptedRequest{},
		Success:  http.StatusAccepted,
		Statuses: []int{400, 429},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			var b resendRequestBody
			if p := kit.DecodeJSON(r, &b); p != nil {
				kit.WriteProblem(w, p)
				return
			}
			if p := requireFields(map[string]string{"email": b.Email, "agreementNumber": b.AgreementNumber, "purchaseAccountNumber": b.PurchaseAccountNumber}); p != nil {
				kit.WriteProblem(w, p)
				return
			}
			if !q.perSource.allow(source(r)) {
				q.outcomes.WithLabelValues("limited").Inc()
				p := kit.NewProblem(http.StatusTooManyRequests, "too-many-requests", "too many resend requests from this address; try again later")
				p.RetryAfter = 60
				kit.WriteProblem(w, p)
				return
			}
			q.outcomes.WithLabelValues(q.enqueue(b)).Inc()
			kit.WriteJSON(w, http.StatusAccepted, acceptedRequest{})
		},
	}
}

// enqueue queues a request the per-target limit allows, and says what
// became of it.
func (q *ResendRequests) enqueue(b resendRequestBody) string {
	if !q.perTarget.allow(resendTarget(b)) {
		return "over_target_limit"
	}
	select {
	case q.queue <- commands.RequestManagerResend{Email: b.Email, AgreementNumber: b.AgreementNumber, PurchaseAccountNumber: b.PurchaseAccountNumber}:
		return "queued"
	default:
		q.log.Warn("resend request queue full: request dropped")
		return "queue_full"
	}
}

// resendTarget keys the per-target limit: the email and both numbers as
// the command matches them (normalized, so that case or spaces do not
// make another target). Keyed on the numbers alone, anyone who knew them
// could spend the account's allowance with wrong emails and silence the
// manager's own request: only a request naming the manager's email (and
// the numbers) can resend, so only such requests share a bucket with the
// manager's.
func resendTarget(b resendRequestBody) string {
	sum := sha256.Sum256([]byte(user.NormalizeEmail(b.Email) + "\x00" +
		account.NormalizeNumber(b.AgreementNumber) + "\x00" + account.NormalizeNumber(b.PurchaseAccountNumber)))
	return string(sum[:])
}

func requireFields(fields map[string]string) *kit.Problem {
	var missing []kit.FieldProblem
	for _, name := range []string{"email", "agreementNumber", "purchaseAccountNumber"} {
		if v, ok := fields[name]; ok && (v == "" || len(v) > 320) {
			missing = append(missing, kit.FieldProblem{Field: name, Reason: "required, at most 320 characters"})
		}
	}
	if missing != nil {
		return kit.Invalid(missing...)
	}
	return nil
}

// source is the client's address (the proxy in front, if any, is trusted
// to be the client: set it up to connect from the client's address).
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiters keeps a token bucket per key, forgetting them all when there
// are too many (a crude but bounded memory).
type limiters struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func newLimiters(every rate.Limit, burst int) *limiters {
	return &limiters{every: every, burst: burst, m: map[string]*rate.Limiter{}}
}

func (l *limiters) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[key]
	if !ok {
		if len(l.m) > 100_000 {
			l.m = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.m[key] = lim
	}
	return lim.Allow()
}
