package service_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/seed"
	"github.com/bizcenter/bizcenter/projections"
)

// leaderPID is the process leading a feed topic ("" when none yet).
func leaderPID(t *testing.T, pool *pgxpool.Pool, topic string) string {
	t.Helper()
	var holder string
	_ = pool.QueryRow(context.Background(), `SELECT holder FROM projection_leaders WHERE topic = $1`, topic).Scan(&holder)
	if _, pid, ok := strings.Cut(holder, "/"); ok {
		return pid
	}
	return ""
}

func pidOf(cmd *exec.Cmd) string { return strconv.Itoa(cmd.Process.Pid) }

func TestInstances_one_leads_each_projector_and_the_other_takes_over_after_kill_9(t *testing.T) {
	const n = 10000
	dbURL, pool, head := seeded(t, n)
	bin := buildBinary(t)
	a := startProcess(t, bin, dbURL)
	waitFor(t, "the first instance to lead the users projector", 30*time.Second, func() bool { return leaderPID(t, pool, "users") == pidOf(a) })
	b := startProcess(t, bin, dbURL)
	waitFor(t, "the second instance to start", 30*time.Second, func() bool { users, _, _ := usersApplied(t, pool); return users > 0 })
	if leader := leaderPID(t, pool, "users"); leader != pidOf(a) {
		t.Fatalf("leader %s, want the first instance %s", leader, pidOf(a))
	}
	users, _, _ := usersApplied(t, pool)
	if users >= n {
		t.Fatalf("catch-up finished (%d users) before the kill: raise n", users)
	}
	if err := a.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = a.Process.Wait()
	killed := time.Now()
	waitFor(t, "the second instance to take over", 15*time.Second, func() bool { return leaderPID(t, pool, "users") == pidOf(b) })
	t.Logf("took over %v after the kill, with %d of %d users projected", time.Since(killed).Round(time.Millisecond), users, n)
	waitFor(t, "the users projector to reach the head", 2*time.Minute, func() bool {
		at, _ := projections.LiveCheckpoint(context.Background(), pool, "users")
		return !at.Less(head)
	})
	users, invitations, counted := usersApplied(t, pool)
	if users != n || invitations != 3*n || counted != 3*n {
		t.Fatalf("%d users, %d invitations, counts summing to %d; want %d, %d, %d", users, invitations, counted, n, 3*n, 3*n)
	}
	// Each topic's lease is tried on its own (LeaseRetry): the users
	// projector may have been taken over, and caught up, before the
	// mailer's turn came.
	waitFor(t, "the surviving instance to lead the mailer", 15*time.Second, func() bool { return leaderPID(t, pool, "mailer") == pidOf(b) })
}

// A leader stopped without dying (SIGSTOP here; a paused VM, or a network
// cut, alike) keeps its session open: its leases must still pass to the
// other instance, and the events written meanwhile be applied once, also
// after it resumes.
func TestInstances_the_other_takes_over_from_a_stopped_leader(t *testing.T) {
	const n, more = 1000, 500
	dbURL, pool, head := seeded(t, n)
	bin := buildBinary(t)
	a := startProcess(t, bin, dbURL)
	waitFor(t, "the first instance to lead and catch up", time.Minute, func() bool {
		at, _ := projections.LiveCheckpoint(context.Background(), pool, "users")
		return leaderPID(t, pool, "users") == pidOf(a) && leaderPID(t, pool, "mailer") == pidOf(a) && !at.Less(head)
	})
	b := startProcess(t, bin, dbURL)
	if err := a.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = a.Process.Signal(syscall.SIGCONT)
		}
	}
	defer resume() // a stopped process ignores the cleanup's kill until then
	head, err := seed.Invitations(context.Background(), postgres.New(pool, postgres.Config{}), more, 3)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second instance to take over", 20*time.Second, func() bool {
		return leaderPID(t, pool, "users") == pidOf(b) && leaderPID(t, pool, "mailer") == pidOf(b)
	})
	t.Logf("took over %v after the stop", time.Since(stopped).Round(time.Millisecond))
	waitFor(t, "the users projector to apply the events written since", time.Minute, func() bool {
		at, _ := projections.LiveCheckpoint(context.Background(), pool, "users")
		return !at.Less(head)
	})
	resume()
	time.Sleep(2 * projections.LeaseRetry) // time for the resumed one to find its leases gone
	users, invitations, counted := usersApplied(t, pool)
	if want := n + more; users != want || invitations != 3*want || counted != 3*want {
		t.Fatalf("%d users, %d invitations, counts summing to %d; want %d, %d, %d", users, invitations, counted, want, 3*want, 3*want)
	}
	if leader := leaderPID(t, pool, "users"); leader != pidOf(b) {
		t.Fatalf("the users projector is led by %s after the first instance resumed, not %s", leader, pidOf(b))
	}
}

// waitFor polls cond, bounded.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
