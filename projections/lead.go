package projections

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Leadership: several instances may run on one database, but each feed
// topic (a projector, the mailer) is consumed by one of them at a time.
// The leader holds a session-level advisory lock on a connection of its
// own; when its process dies, PostgreSQL ends the session and frees the
// lock, and another instance takes it within LeaseRetry.
//
// A leader that stops without dying (SIGSTOP, a paused VM or container, a
// network cut that sends no reset) leaves its session open, and its lock
// with it: PostgreSQL noticed only when TCP keepalives gave up, two hours
// on Linux's defaults. So the lock's session ends itself once its leader
// has sent nothing for LeaseIdle (idle_session_timeout), and the leader,
// pinging every LeaseRetry, steps down when a ping gets no answer within
// LeaseIdle.
//
// The same leases let one instance of a release build its new version of
// a projector (buildOnce).

// LeaseRetry is how often a follower tries to become leader, and how
// often a leader checks its connection.
var LeaseRetry = time.Second

// LeaseIdle is how long a leader may stay silent before its lock is freed.
// Several LeaseRetry: a leader pings every LeaseRetry, and a busy machine
// may delay a ping by a second or two without anything being wrong.
var LeaseIdle = 5 * time.Second

// leadKey is the advisory lock key of the topic $1's leadership.
const leadKey = `hashtextextended('lead:' || $1, 0)`

// holder names this process in projection_leaders.
var holder = func() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}()

// lead blocks until this process leads topic, and returns a context that
// ends when the leadership is lost (or ctx ends), with its release.
func lead(ctx context.Context, pool *pgxpool.Pool, topic string) (context.Context, context.CancelFunc, error) {
	return lease(ctx, pool, "lead:"+topic, func(conn *pgxpool.Conn) error {
		_, err := conn.Exec(ctx, `
			INSERT INTO projection_leaders (topic, holder, since) VALUES ($1, $2, now())
			ON CONFLICT (topic) DO UPDATE SET holder = $2, since = now()`, topic, holder)
		return err
	})
}

// lease blocks until this process holds the session advisory lock of key
// on a connection of its own, and took (nil: nothing) has run on that
// connection; it returns a context that ends when the lock is lost (or
// ctx ends), with its release.
func lease(ctx context.Context, pool *pgxpool.Pool, key string, took func(*pgxpool.Conn) error) (context.Context, context.CancelFunc, error) {
	for {
		conn, err := pool.Acquire(ctx)
		if err == nil {
			var got bool
			err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))
				FROM (SELECT set_config('idle_session_timeout', $2, false)) AS lease`,
				key, strconv.FormatInt(LeaseIdle.Milliseconds(), 10)).Scan(&got)
			if err == nil && got && took != nil {
				err = took(conn)
			}
			if err == nil && got {
				return hold(ctx, conn)
			}
			// Never hand a locked connection back to the pool.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			conn.Release()
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(LeaseRetry):
		}
	}
}

// hold keeps a lease's connection alive and ends the returned context
// when it breaks.
func hold(ctx context.Context, conn *pgxpool.Conn) (context.Context, context.CancelFunc, error) {
	lctx, cancel := context.WithCancel(ctx)
	go func() {
		defer func() {
			// Closing the session frees the lock whatever state it is in.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			conn.Release()
		}()
		t := time.NewTicker(LeaseRetry)
		defer t.Stop()
		for {
			select {
			case <-lctx.Done():
				return
			case <-t.C:
				pctx, stop := context.WithTimeout(lctx, LeaseIdle)
				err := conn.Ping(pctx)
				stop()
				if err != nil {
					cancel()
					return
				}
			}
		}
	}()
	return lctx, cancel, nil
}
