package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/migrations"
	"github.com/bizcenter/bizcenter/service"
)

// An operator command of a newer binary leaves alone the database an
// older release migrated, naming `bizcenter migrate`; it migrated it
// under the release that ran. A new database it migrates, as an import
// into an empty copy needs.
func TestOpenTools_refuses_a_database_behind_and_migrates_a_new_one(t *testing.T) {
	ctx := context.Background()
	behind := pgtest.URL(t)
	pool, err := pgxpool.New(ctx, behind)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(pool), migrations.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Down(ctx); err != nil { // the last migration, as if an older release ran
		t.Fatal(err)
	}
	if tools, err := service.OpenTools(ctx, service.Config{DatabaseURL: behind}); !errors.Is(err, migrations.ErrBehind) || !strings.Contains(err.Error(), "bizcenter migrate") {
		if err == nil {
			tools.Close()
		}
		t.Fatalf("a database one migration behind: %v, want ErrBehind naming bizcenter migrate", err)
	}
	if pending, err := migrations.Pending(ctx, stdlib.OpenDBFromPool(pool)); err != nil || pending != 1 {
		t.Fatalf("%d migrations pending after the refusal, %v; want it left at 1", pending, err)
	}

	tools, err := service.OpenTools(ctx, service.Config{DatabaseURL: pgtest.EmptyURL(t)})
	if err != nil {
		t.Fatalf("a new database: %v", err)
	}
	defer tools.Close()
	if pending, err := migrations.Pending(ctx, stdlib.OpenDBFromPool(tools.Pool)); err != nil || pending != 0 {
		t.Fatalf("a new database: %d migrations pending, %v", pending, err)
	}
}
