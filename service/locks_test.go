package service

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/httpapi/kit"
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

// Commands sharing an id's lock hold it side by side, and one
// serialising on it waits until they are done.
func TestLocks_share_side_by_side_and_serialize_waits_for_them(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pool := pgtest.Pool(t)
	_, l, closeAll, err := openSerials(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	id := uuid.New()
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	entered, release := make(chan struct{}, 2), make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	for _, name := range []string{"share 1", "share 2"} {
		wg.Go(func() {
			if err := l.Share(ctx, id, func(context.Context) error {
				entered <- struct{}{}
				<-release
				note(name)
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	for range 2 {
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatal("the second sharer waited for the first")
		}
	}
	wg.Go(func() {
		if err := l.Serialize(ctx, id, func(context.Context) error { note("serialize"); return nil }); err != nil {
			t.Error(err)
		}
	})
	for waiting := 0; waiting == 0; {
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND (classid::bigint << 32 | objid::bigint) = hashtextextended($1, 0)`, "partner:"+id.String()).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	open()
	wg.Wait()
	if len(order) != 3 || order[2] != "serialize" {
		t.Fatalf("order %q: the serialiser ran while the lock was shared", order)
	}
}

// As many commands as the accounts' locks' pool has connections hold an
// account's lock each and then share a partner's: they take it from the
// partners' pool, where from one pool each would hold a connection and
// wait for a second.
func TestLocks_a_partners_lock_inside_accounts_locks_never_waits_for_a_connection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	accounts, partners, closeAll, err := openSerials(ctx, pgtest.Pool(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	partner := uuid.New()
	var held, wg sync.WaitGroup
	held.Add(maxLockHolders)
	errs := make(chan error, maxLockHolders)
	for range maxLockHolders {
		wg.Go(func() {
			errs <- accounts.Serialize(ctx, uuid.New(), func(ctx context.Context) error {
				held.Done()
				held.Wait() // every account's lock held first
				return partners.Share(ctx, partner, func(context.Context) error { return nil })
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

// A command that finds every connection of its lock pool taken (by
// commands holding or awaiting locks) waits no longer than for a lock:
// it answers 503 to retry, not once the others are done.
func TestLocks_a_full_pool_is_waited_for_as_long_as_a_lock(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.Pool(t).Config().Copy()
	cfg.MaxConns = 1
	lockPool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer lockPool.Close()
	l := newLocks(lockPool, "test", "busy")
	l.wait = 300 * time.Millisecond
	holding, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = l.Share(ctx, uuid.New(), func(context.Context) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	defer close(release)
	start := time.Now()
	bounded, cancel := context.WithTimeout(ctx, 5*time.Second) // else, unbounded, it would wait for good
	defer cancel()
	err = l.Share(bounded, uuid.New(), func(context.Context) error { return nil })
	var p *kit.Problem
	if !errors.As(err, &p) || p.Status != http.StatusServiceUnavailable {
		t.Fatalf("with the pool taken: %v, want a 503 problem", err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("waited %s for a connection, bound %s", waited, l.wait)
	}
}
