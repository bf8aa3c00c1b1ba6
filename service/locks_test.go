package service

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// As many commands of different ids as the service's pool has connections
// hold their locks at once, and each can still read: the locks hold
// connections of their own pool.
func TestLocks_holders_never_take_the_connections_commands_read_with(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.Pool(t).Config().Copy()
	cfg.MaxConns = 3
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	lockPool, err := openLockPool(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer lockPool.Close()
	l := newLocks(lockPool, "test", "busy")
	bounded, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var held, wg sync.WaitGroup
	held.Add(int(cfg.MaxConns))
	errs := make(chan error, cfg.MaxConns)
	for range cfg.MaxConns {
		wg.Go(func() {
			errs <- l.Serialize(bounded, uuid.New(), func(ctx context.Context) error {
				held.Done()
				held.Wait() // every lock held before anyone reads
				_, err := pool.Exec(ctx, `SELECT 1`)
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
