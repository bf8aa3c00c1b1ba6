package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/internal/pgtypes"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/bizcenter/bizcenter/migrations"
)

// FreshDB creates a migrated database and returns its URL and a drop func.
func FreshDB(ctx context.Context, admin string) (string, func(), error) {
	name := "bench_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, err
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	dbURL := u.String()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db); err != nil {
		return "", nil, err
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	}
	return dbURL, drop, nil
}

// Pool opens a pool of at most size connections.
func Pool(ctx context.Context, dbURL string, size int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = size
	pgtypes.Register(cfg)
	return pgxpool.NewWithConfig(ctx, cfg)
}

// eventSizedRow is a payload of the size of a stored invitation event.
var eventSizedRow = []byte(fmt.Sprintf(`{"pad":"%s"}`, strings.Repeat("x", 560)))

// WithPoolSize sets the size of the pools a service opens on dbURL (0
// leaves pgxpool's default, max(4, CPUs)).
func WithPoolSize(dbURL string, n int) string {
	if n <= 0 {
		return dbURL
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	q := u.Query()
	q.Set("pool_max_conns", fmt.Sprint(n))
	u.RawQuery = q.Encode()
	return u.String()
}
