package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/integration"
)

// Endpoint is a registered webhook as its account's administrators see
// it; the secret is shown once, in the answer that made it (registration
// or rotation).
type Endpoint struct {
	WebhookID           string     `json:"webhookId"`
	URL                 string     `json:"url"`
	Types               []string   `json:"types"`
	State               string     `json:"state"`
	Secret              string     `json:"secret,omitempty"`
	CreatedAt           time.Time  `json:"createdAt"`
	ConsecutiveFailures int        `json:"consecutiveFailures"`
	LastStatus          *int       `json:"lastStatus"`
	LastError           *string    `json:"lastError"`
	LastAttemptAt       *time.Time `json:"lastAttemptAt"`
	LastSuccessAt       *time.Time `json:"lastSuccessAt"`
	PausedAt            *time.Time `json:"pausedAt"`
	// Pending counts the deliveries not yet made, up to 10,000.
	Pending int `json:"pending"`
	// PreviousSecretExpiresAt is when the secret replaced by the last
	// rotation stops signing deliveries (absent when it has).
	PreviousSecretExpiresAt *time.Time `json:"previousSecretExpiresAt,omitempty"`
}

type registration struct {
	URL   string   `json:"url"`
	Types []string `json:"types"`
}

// rotation is the body of a secret rotation (optional).
type rotation struct {
	// PreviousValidSeconds is how long deliveries are signed with the
	// current secret too, beside the new one: a day when absent, 0 to end
	// it at once, at most a week.
	PreviousValidSeconds *int `json:"previousValidSeconds"`
}

// The bounds of rotation.PreviousValidSeconds.
const (
	defaultPreviousValid = 24 * 60 * 60
	maxPreviousValid     = 7 * 24 * 60 * 60
)

// list is a page of an account's webhooks, in the order they were
// registered.
type list struct {
	Items      []Endpoint `json:"items"`
	NextCursor *string    `json:"nextCursor"`
}

// endpointKey is where a page of webhooks ends.
type endpointKey struct {
	CreatedAt  time.Time `json:"t"`
	ID         uuid.UUID `json:"id"`
	kit.Listed           // the account's list: another's is refused (kit.PageQuery)
}

// Admins tells whether a signed-in caller is an active user of an
// account (member) and one of its Account Administrators (admin); an
// operator is both, of an account that exists. The service decides it from the events, as
// every command decides its caller's rights: a registration sends the
// account's events where its caller says, so it must not wait for a read
// model to catch up with a demotion (or with a new administrator).
type Admins func(ctx context.Context, account uuid.UUID, p kit.Principal) (member, admin bool, err error)

// Routes declares the webhook routes of an account, for its Account
// Administrators (and operators), whom admins tells. Clock stamps
// registrations, so that an endpoint gets the events that occur from then
// on; policy says which URLs may be registered.
func Routes(pool *pgxpool.Pool, clk clock.Clock, log *slog.Logger, policy Policy, admins Admins) []kit.Route {
	r := &routes{pool: pool, clock: clk, log: log, policy: policy, admins: admins}
	statuses := []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}
	base := "/v1/accounts/{accountId}/webhooks"
	return []kit.Route{
		{Method: http.MethodPost, Path: base, Access: kit.SignedIn, Success: http.StatusCreated, Statuses: statuses,
			Summary: "Register an HTTPS endpoint for the account's integration events (types: all when empty); the answer holds the signing secret, shown once",
			Request: registration{URL: "https://hooks.example/bizcenter", Types: []string{"bizcenter.user.invited.v1"}}, Response: Endpoint{},
			Handler: r.admin(r.register)},
		{Method: http.MethodGet, Path: base, Access: kit.SignedIn, Success: http.StatusOK, Statuses: statuses,
			Summary:  "The account's webhooks with their state (active, paused), failures in a row, last status and pending deliveries",
			Query:    map[string]string{"limit": "page size, 1 to 500 (default 50)", "cursor": "nextCursor of the previous page of the same account (another account's is a 400)"},
			Response: list{}, Handler: r.admin(r.list)},
		{Method: http.MethodDelete, Path: base + "/{webhookId}", Access: kit.SignedIn, Success: http.StatusOK, Statuses: statuses,
			Summary: "Remove a webhook and its pending deliveries", Response: struct{}{}, Handler: r.admin(r.remove)},
		{Method: http.MethodPost, Path: base + "/{webhookId}/secret", Access: kit.SignedIn, Success: http.StatusOK, Statuses: statuses,
			Summary: "Rotate the webhook's signing secret: the answer holds the new one, shown once; deliveries are signed with the current one too for previousValidSeconds (default a day)",
			Request: rotation{}, OptionalBody: true, Response: Endpoint{}, Handler: r.admin(r.rotate)},
		{Method: http.MethodPost, Path: base + "/{webhookId}/resume", Access: kit.SignedIn, Success: http.StatusOK, Statuses: statuses,
			Summary: "Resume a paused webhook: its pending deliveries are tried again at once, in order", Response: Endpoint{},
			Handler: r.admin(r.resume)},
	}
}

type routes struct {
	pool   *pgxpool.Pool
	clock  clock.Clock
	log    *slog.Logger
	policy Policy
	admins Admins
}

// admin lets Account Administrators of the account and operators in; a
// member gets 403, anyone else 404, and an operator 404 for an account
// that does not exist.
func (r *routes) admin(next func(w http.ResponseWriter, req *http.Request, account uuid.UUID, p kit.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		p, _ := kit.PrincipalFrom(req.Context())
		account, err := uuid.Parse(req.PathValue("accountId"))
		if err != nil {
			kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: "accountId", Reason: "must be a UUID"}))
			return
		}
		member, admin, err := r.admins(req.Context(), account, p)
		switch {
		case err != nil:
			r.fail(w, req, err)
			return
		case !member:
			kit.WriteProblem(w, kit.NewProblem(http.StatusNotFound, "not-found", "no such account"))
			return
		case !admin:
			kit.WriteProblem(w, kit.NewProblem(http.StatusForbidden, "forbidden", "webhooks are managed by the account's Account Administrators"))
			return
		}
		next(w, req, account, p)
	}
}

func (r *routes) register(w http.ResponseWriter, req *http.Request, account uuid.UUID, p kit.Principal) {
	var b registration
	if problem := kit.DecodeJSON(req, &b); problem != nil {
		kit.WriteProblem(w, problem)
		return
	}
	var bad []kit.FieldProblem
	if why := r.policy.checkURL(b.URL); why != "" {
		bad = append(bad, kit.FieldProblem{Field: "url", Reason: why})
	}
	known := slices.Collect(func(yield func(string) bool) {
		for _, t := range integration.Types {
			if !yield(t) {
				return
			}
		}
	})
	for i, t := range b.Types {
		if !slices.Contains(known, t) {
			bad = append(bad, kit.FieldProblem{Field: "types", Reason: "unknown type " + t})
			break
		}
		if slices.Contains(b.Types[:i], t) {
			bad = append(bad, kit.FieldProblem{Field: "types", Reason: "each type once: " + t + " is listed twice"})
			break
		}
		// A partner organization's own events name no account: an
		// account's endpoint would never get one.
		if strings.HasPrefix(t, "bizcenter.partner.") {
			bad = append(bad, kit.FieldProblem{Field: "types", Reason: t + " is a partner organization's, never an account's: take it from the feed or the publisher"})
			break
		}
	}
	if len(bad) > 0 {
		kit.WriteProblem(w, kit.Invalid(bad...))
		return
	}
	e := Endpoint{WebhookID: uuid.NewString(), URL: b.URL, Types: append([]string{}, b.Types...), State: "active",
		// PostgreSQL keeps microseconds: the answer says what a read will.
		Secret: newSecret(), CreatedAt: r.clock.Now().UTC().Truncate(time.Microsecond)}
	if _, err := r.pool.Exec(req.Context(), `INSERT INTO webhook_endpoints (id, account_id, url, secret, types, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.WebhookID, account, e.URL, e.Secret, e.Types, p.Subject, e.CreatedAt); err != nil {
		r.fail(w, req, err)
		return
	}
	kit.WriteJSON(w, http.StatusCreated, e)
}

// newSecret is a fresh signing secret.
func newSecret() string {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	return "whsec_" + hex.EncodeToString(raw)
}

// rotate gives an endpoint a new secret; the current one goes on signing
// deliveries beside it for the time asked (a rotation before that ends
// replaces it: only the last secret replaced stays valid).
func (r *routes) rotate(w http.ResponseWriter, req *http.Request, account uuid.UUID, _ kit.Principal) {
	id, ok := webhookID(w, req)
	if !ok {
		return
	}
	var b rotation
	if problem := kit.DecodeOptionalJSON(req, &b); problem != nil {
		kit.WriteProblem(w, problem)
		return
	}
	keep := defaultPreviousValid
	if b.PreviousValidSeconds != nil {
		keep = *b.PreviousValidSeconds
	}
	if keep < 0 || keep > maxPreviousValid {
		kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: "previousValidSeconds", Reason: "0 to 604800 seconds"}))
		return
	}
	// Of rotations at once, the last one wins (as any change of a
	// setting); each answers with its own secret and, from the same
	// statement, when the one it replaced stops signing.
	secret := newSecret()
	var until time.Time
	err := r.pool.QueryRow(req.Context(), `
		UPDATE webhook_endpoints
		   SET previous_secret = secret, previous_secret_until = now() + make_interval(secs => $3), secret = $4
		 WHERE id = $1 AND account_id = $2
		RETURNING previous_secret_until`, id, account, keep, secret).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	r.answer(w, req, account, id, err, func(e *Endpoint) {
		e.Secret, e.PreviousSecretExpiresAt = secret, nil
		if keep > 0 {
			e.PreviousSecretExpiresAt = &until
		}
	})
}

// answer writes the endpoint id as it is now, seen by edit, after a
// change that ended with err.
func (r *routes) answer(w http.ResponseWriter, req *http.Request, account, id uuid.UUID, err error, edit func(*Endpoint)) {
	var items []Endpoint
	if err == nil {
		items, err = r.endpoints(req.Context(), `AND e.id = $2`, account, id)
		if err == nil && len(items) == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		r.fail(w, req, err)
		return
	}
	edit(&items[0])
	kit.WriteJSON(w, http.StatusOK, items[0])
}

func (r *routes) list(w http.ResponseWriter, req *http.Request, account uuid.UUID, _ kit.Principal) {
	var after endpointKey
	limit, problem := kit.PageQuery(req, &after)
	if problem != nil {
		kit.WriteProblem(w, problem)
		return
	}
	// The start of the list is after the zero key: no row is created
	// before year 1.
	items, err := r.endpoints(req.Context(), `AND (e.created_at, e.id) > ($2, $3) ORDER BY e.created_at, e.id LIMIT $4`,
		account, after.CreatedAt, after.ID, limit+1)
	if err != nil {
		r.fail(w, req, err)
		return
	}
	var page list
	page.Items, page.NextCursor = kit.Page(items, limit, func(e Endpoint) any {
		return endpointKey{e.CreatedAt, uuid.MustParse(e.WebhookID), kit.Listed{List: kit.ListOf(req)}}
	})
	kit.WriteJSON(w, http.StatusOK, page)
}

func (r *routes) remove(w http.ResponseWriter, req *http.Request, account uuid.UUID, _ kit.Principal) {
	id, ok := webhookID(w, req)
	if !ok {
		return
	}
	tag, err := r.pool.Exec(req.Context(), `DELETE FROM webhook_endpoints WHERE id = $1 AND account_id = $2`, id, account)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrNotFound
	}
	if err != nil {
		r.fail(w, req, err)
		return
	}
	kit.WriteJSON(w, http.StatusOK, struct{}{})
}

func (r *routes) resume(w http.ResponseWriter, req *http.Request, account uuid.UUID, _ kit.Principal) {
	id, ok := webhookID(w, req)
	if !ok {
		return
	}
	err := pgx.BeginFunc(req.Context(), r.pool, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(req.Context(), `SELECT state FROM webhook_endpoints WHERE id = $1 AND account_id = $2 FOR UPDATE`, id, account).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err == nil {
			_, err = tx.Exec(req.Context(), `UPDATE webhook_endpoints SET state = 'active', consecutive_failures = 0, paused_at = NULL WHERE id = $1`, id)
		}
		// Only a paused endpoint's deliveries are made due: an active
		// one's head may be claimed by a worker posting it (worker.go),
		// and making it due would let another worker post it too.
		if err == nil && state == "paused" {
			_, err = tx.Exec(req.Context(), `UPDATE webhook_deliveries SET next_attempt_at = now() WHERE endpoint_id = $1 AND delivered_at IS NULL`, id)
		}
		return err
	})
	r.answer(w, req, account, id, err, func(*Endpoint) {})
}

func webhookID(w http.ResponseWriter, req *http.Request) (uuid.UUID, bool) {
	id, err := uuid.Parse(req.PathValue("webhookId"))
	if err != nil {
		kit.WriteProblem(w, kit.Invalid(kit.FieldProblem{Field: "webhookId", Reason: "must be a UUID"}))
	}
	return id, err == nil
}

// endpoints lists an account's endpoints (one when id is set).
// maxPendingCount bounds the pending deliveries an endpoint's listing
// counts: a receiver down for days has hundreds of thousands, and the
// count cost every list 100 ms or more.
const maxPendingCount = "10000"

// endpoints reads the webhooks of account $1 that the rest of the query
// (tail) keeps, in its order.
func (r *routes) endpoints(ctx context.Context, tail string, args ...any) ([]Endpoint, error) {
	rows, err := r.pool.Query(ctx, `
		SELECT e.id::text, e.url, e.types, e.state, e.created_at, e.consecutive_failures, e.last_status, e.last_error,
		       e.last_attempt_at, e.last_success_at, e.paused_at,
		       (SELECT count(*) FROM (SELECT FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.delivered_at IS NULL LIMIT `+maxPendingCount+`) d),
		       CASE WHEN e.previous_secret_until > now() THEN e.previous_secret_until END
		  FROM webhook_endpoints e WHERE e.account_id = $1 `+tail, args...)
	if err != nil {
		return nil, err
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Endpoint, error) {
		var e Endpoint
		err := row.Scan(&e.WebhookID, &e.URL, &e.Types, &e.State, &e.CreatedAt, &e.ConsecutiveFailures, &e.LastStatus, &e.LastError,
			&e.LastAttemptAt, &e.LastSuccessAt, &e.PausedAt, &e.Pending, &e.PreviousSecretExpiresAt)
		return e, err
	})
	if items == nil {
		items = []Endpoint{}
	}
	return items, err
}

func (r *routes) fail(w http.ResponseWriter, req *http.Request, err error) {
	if errors.Is(err, ErrNotFound) {
		kit.WriteProblem(w, kit.NewProblem(http.StatusNotFound, "not-found", "no such webhook"))
		return
	}
	if p := kit.Unreachable(err); p != nil {
		kit.WriteProblem(w, p)
		return
	}
	r.log.ErrorContext(req.Context(), "webhooks", "error", err)
	kit.WriteProblem(w, kit.NewProblem(http.StatusInternalServerError, "internal", "the webhook operation failed"))
}
