package service_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

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
	if leaderPID(t, pool, "mailer") != pidOf(b) {
		t.Fatalf("the mailer is led by %s, not the surviving instance", leaderPID(t, pool, "mailer"))
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
