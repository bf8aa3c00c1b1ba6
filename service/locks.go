package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/httpapi/kit"
)

// locks serialise the commands of one id (an account's license commands,
// a partner's user changes: commands.Serial) with a PostgreSQL advisory
// lock, held by a connection of its own for the command's length, so that
// it holds in every instance on the database. A session lock: the command
// reads and appends on other connections, so no transaction needs to stay
// open just to hold it. Those connections come from a pool of their own
// (openLockPool): drawn from the service's pool, as many commands of
// different ids as it has connections held them all and then waited for
// one to read with. Each kind of lock has its own pool: a command holding
// an account's lock takes its partner's inside it (commands.Deps), and
// from one pool as many of them as it has connections would hold them
// all, each waiting for a second.
//
// Within a process the commands of an id first take turns in memory, so
// that at most one of them holds a connection while it waits for the lock:
// twenty at once held every free connection of the pool waiting, and the
// one holding the lock could get none to read with. Across instances a
// waiter still holds one, so the wait is bounded (lockWait) and ends in a
// 503 to retry.
//
// Share takes the same lock shared (the commands that rest on a partner's
// users, while Serialize runs the changes of them): sharers take no turns
// in memory, since they wait only while a change holds or awaits the
// lock, which is rare, and brief as long as every sharer is: a change
// awaits the sharers before it, and the sharers after it wait behind it
// (PostgreSQL queues a shared request behind a waiting exclusive one), so
// one long sharer would hold all of them. Hence commands share it only
// for their last check of the caller and their appends (a license
// command decides before: asCaller in commands/licenses.go).
type locks struct {
	pool  *pgxpool.Pool
	turns *turns
	// kind prefixes the lock's key, so that kinds never share a lock;
	// busy is the 503's detail.
	kind, busy string
	// wait bounds the wait for a connection and the lock (lockWait).
	wait time.Duration
}

// maxLockHolders bounds the commands holding a lock at once in an
// instance; more wait for a connection of the locks' pool.
const maxLockHolders = 32

// openLockPool opens the locks' pool on the service pool's database.
func openLockPool(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Pool, error) {
	cfg := pool.Config().Copy()
	cfg.MaxConns, cfg.MinConns = maxLockHolders, 0
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("locks' pool: %w", err)
	}
	return p, nil
}

// openSerials opens the accounts' locks and the partners' locks
// (commands.Deps), each kind on a pool of its own; closeAll closes both.
func openSerials(ctx context.Context, pool *pgxpool.Pool) (accounts, partners locks, closeAll func(), err error) {
	accountPool, err := openLockPool(ctx, pool)
	if err != nil {
		return locks{}, locks{}, nil, err
	}
	partnerPool, err := openLockPool(ctx, pool)
	if err != nil {
		accountPool.Close()
		return locks{}, locks{}, nil, err
	}
	// The accounts' key kind is still "licenses", the lock's name before
	// partner orders took it too, so that it excludes what older
	// instances run.
	accounts = newLocks(accountPool, "licenses", "another change of this account's licenses, partners or users is taking long; try again")
	partners = newLocks(partnerPool, "partner", "another command on this partner's users is taking long; try again")
	return accounts, partners, func() { accountPool.Close(); partnerPool.Close() }, nil
}

func newLocks(pool *pgxpool.Pool, kind, busy string) locks {
	return locks{pool: pool, turns: &turns{}, kind: kind, busy: busy, wait: lockWait}
}

// lockWait bounds the wait for another instance's command of the same id
// (theirs take a fraction of a second).
const lockWait = 10 * time.Second

func (a locks) Serialize(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	done, err := a.turns.take(ctx, id)
	if err != nil {
		return fmt.Errorf("%s lock: %w", a.kind, err)
	}
	defer done()
	return a.hold(ctx, id, false, f)
}

func (a locks) Share(ctx context.Context, id uuid.UUID, f func(context.Context) error) error {
	return a.hold(ctx, id, true, f)
}

// hold runs f holding id's lock, shared or not.
func (a locks) hold(ctx context.Context, id uuid.UUID, shared bool, f func(context.Context) error) error {
	lock, unlock := `SELECT pg_advisory_lock(hashtextextended($1, 0))`, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`
	if shared {
		lock, unlock = `SELECT pg_advisory_lock_shared(hashtextextended($1, 0))`, `SELECT pg_advisory_unlock_shared(hashtextextended($1, 0))`
	}
	// Waiting ends with ctx or a.wait, for a connection of the pool (a
	// full pool is commands waiting for locks) and for the lock itself:
	// pgx cancels the query.
	wait, cancel := context.WithTimeout(ctx, a.wait)
	defer cancel()
	busy := func() error {
		p := kit.NewProblem(http.StatusServiceUnavailable, "busy", a.busy)
		p.RetryAfter = 1
		return p
	}
	tooLong := func() bool { return errors.Is(wait.Err(), context.DeadlineExceeded) && ctx.Err() == nil }
	conn, err := a.pool.Acquire(wait)
	if err != nil {
		if tooLong() {
			return busy()
		}
		return fmt.Errorf("%s lock: %w", a.kind, err)
	}
	defer conn.Release()
	key := a.kind + ":" + id.String()
	if _, err = conn.Exec(wait, lock, key); err != nil {
		// The lock may have been granted as the wait was cancelled: a
		// closed connection holds nothing.
		_ = conn.Conn().Close(context.Background())
		if tooLong() {
			return busy()
		}
		return fmt.Errorf("%s lock: %w", a.kind, err)
	}
	defer func() {
		// Without ctx: a request that ended must still unlock. A
		// connection that cannot unlock is closed, which unlocks.
		if _, err := conn.Exec(context.Background(), unlock, key); err != nil {
			_ = conn.Conn().Close(context.Background())
		}
	}()
	return f(ctx)
}
