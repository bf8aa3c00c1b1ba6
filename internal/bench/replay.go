package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/internal/pgtypes"
	"github.com/bizcenter/bizcenter/readapi"
)

// statement is one SQL statement a reader sent, with its arguments, and
// the time replays spent in it.
type statement struct {
	sql   string
	args  []any
	spent *atomic.Int64
}

// recorder is a pgx tracer that keeps every statement sent.
type recorder struct {
	mu   sync.Mutex
	sent []statement
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	r.sent = append(r.sent, statement{sql: d.SQL, args: d.Args, spent: &atomic.Int64{}})
	r.mu.Unlock()
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// captureList serves one list request (path, as the member) from the read
// API's own handler over a traced connection and returns the statements
// it sent, transaction control included, so that the raw side runs exactly
// what the read API runs, whatever readapi's SQL becomes. The answer must
// count users users: the read API reads what fillUsers wrote.
func captureList(ctx context.Context, dbURL, path string, account uuid.UUID, users int) ([]statement, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	rec := &recorder{}
	cfg.MaxConns, cfg.ConnConfig.Tracer = 1, rec
	pgtypes.Register(cfg)
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	const pattern = "/v1/accounts/{accountId}/users"
	for _, route := range readapi.Routes(readapi.Deps{Pool: p, Clock: clock.System{}}) {
		if route.Method != http.MethodGet || route.Path != pattern {
			continue
		}
		req := httptest.NewRequestWithContext(kit.WithPrincipal(ctx, kit.Principal{Subject: "member", Email: memberEmail}), "GET", path, nil)
		req.SetPathValue("accountId", account.String())
		w := httptest.NewRecorder()
		route.Handler(w, req)
		var page struct {
			Counts struct{ All int } `json:"counts"`
		}
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &page) != nil || page.Counts.All != users {
			return nil, fmt.Errorf("GET %s from the read API's handler, expecting %d users: %d %.300s", path, users, w.Code, strings.TrimSpace(w.Body.String()))
		}
		return rec.sent, nil
	}
	return nil, fmt.Errorf("no read route GET %s", pattern)
}

// replay sends statements in order on one connection, reading every row;
// those without arguments (BEGIN, COMMIT) go as pgx sends them, by Exec.
func replay(ctx context.Context, p *pgxpool.Pool, stmts []statement) error {
	conn, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for _, s := range stmts {
		start := time.Now()
		if err := send(ctx, conn, s); err != nil {
			return err
		}
		s.spent.Add(int64(time.Since(start)))
	}
	return nil
}

func send(ctx context.Context, conn *pgxpool.Conn, s statement) error {
	if len(s.args) == 0 {
		_, err := conn.Exec(ctx, s.sql)
		return err
	}
	rows, err := conn.Query(ctx, s.sql, s.args...)
	if err != nil {
		return err
	}
	for rows.Next() {
	}
	return rows.Err()
}

// reportSpent says where replays of stmts spent their time, n replays.
func reportSpent(stmts []statement, n int) {
	for _, s := range stmts {
		text := strings.Join(strings.Fields(s.sql), " ")
		fmt.Fprintf(os.Stderr, "  %8v a replay in: %.70s\n", (time.Duration(s.spent.Load()) / time.Duration(max(1, n))).Round(time.Microsecond), text)
	}
}
