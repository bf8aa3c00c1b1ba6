// Package pgtest gives each test its own migrated PostgreSQL database, cloned
// from a template so a fresh database costs milliseconds. The cluster comes
// from TEST_DATABASE_URL (set by `make test`, which starts a throwaway one).
package pgtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for goose

	"github.com/bizcenter/bizcenter/internal/pgtypes"
	"github.com/bizcenter/bizcenter/migrations"
)

const envURL = "TEST_DATABASE_URL"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// ClusterURL is the admin URL of the test cluster. A test binary run
// without it fails: the suite always runs against real PostgreSQL.
func ClusterURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts a throwaway PostgreSQL cluster", envURL)
	}
	return u
}

// URL creates a fresh migrated database and returns its URL. It is dropped
// when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	admin := ClusterURL(t)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(admin) })
	if templateErr != nil {
		t.Fatalf("pgtest template: %v", templateErr)
	}
	return create(t, admin, " TEMPLATE "+templateName)
}

// EmptyURL creates a database with nothing in it, no migration applied,
// and returns its URL. It is dropped when the test ends.
func EmptyURL(t testing.TB) string {
	t.Helper()
	return create(t, ClusterURL(t), "")
}

// create makes a database of a new name (with options, e.g. its
// template), dropped when the test ends, and returns its URL.
func create(t testing.TB, admin, options string) string {
	t.Helper()
	name := "t_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+options); err != nil {
		t.Fatalf("pgtest create database: %v", err)
	}
	t.Cleanup(func() { drop(admin, name) })
	return withDatabase(admin, name)
}

// Pool creates a fresh migrated database and returns a pool on it, closed
// when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return TracedPool(t, nil)
}

// TracedPool is Pool with tracer (when not nil) told of its connections'
// queries, for a test that counts what is sent.
func TracedPool(t testing.TB, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(URL(t))
	if err != nil {
		t.Fatalf("pgtest pool: %v", err)
	}
	pgtypes.Register(cfg) // as the service's pools do
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgtest pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func drop(admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

// ensureTemplate migrates a template database named after the migration
// files' contents, once per cluster: test binaries of several packages run
// at once, so creation is serialised by an advisory lock.
func ensureTemplate(admin string) (string, error) {
	name := "tpl_" + migrationsDigest()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(4242)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(4242)")
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_new"
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	db, err := sql.Open("pgx", withDatabase(admin, building))
	if err != nil {
		return "", err
	}
	err = migrations.Up(ctx, db)
	db.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsDigest() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.Files, path)
		fmt.Fprintf(h, "%s\x00%s\x00", path, b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func withDatabase(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		return admin
	}
	u.Path = "/" + name
	return u.String()
}
