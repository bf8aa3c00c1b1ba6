package service_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/internal/seed"
	"github.com/bizcenter/bizcenter/projections"
)

// seeded is a fresh database holding n users' invitations (3 events
// each), with a pool on it and the position of the last event.
func seeded(t *testing.T, n int) (string, *pgxpool.Pool, eventstore.Position) {
	t.Helper()
	dbURL := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	head, err := seed.Invitations(context.Background(), postgres.New(pool, postgres.Config{}), n, 3)
	if err != nil {
		t.Fatal(err)
	}
	return dbURL, pool, head
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bizcenter")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/bizcenter").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func startProcess(t *testing.T, bin, dbURL string) *exec.Cmd {
	cmd, _ := startLogged(t, bin, dbURL)
	return cmd
}

// startLogged starts `bizcenter serve` and returns the path of its log.
func startLogged(t *testing.T, bin, dbURL string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "BIZCENTER_JWT_SECRET="+string(jwtSecret),
		"HTTP_ADDR=127.0.0.1:0", "MAIL_DIR="+t.TempDir(), "EVENTSTORE_URL=")
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logFile, _ := os.Create(logPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd, logPath
}

// usersApplied counts what the users projector has made so far.
func usersApplied(t *testing.T, pool *pgxpool.Pool) (users, invitations, counted int) {
	t.Helper()
	err := pool.QueryRow(context.Background(), `
		SELECT (SELECT count(*) FROM rm_users), (SELECT count(*) FROM rm_user_history h, json_array_elements(h.entries::json) e WHERE e->'invitation' IS NOT NULL),
		       (SELECT coalesce(sum(invitation_count), 0) FROM rm_users)`).Scan(&users, &invitations, &counted)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
		return 0, 0, 0 // the process has not created the read model yet
	}
	if err != nil {
		t.Fatal(err)
	}
	return
}

func TestProjection_survives_kill_9_in_the_middle_of_catching_up(t *testing.T) {
	const n = 10000
	dbURL, pool, head := seeded(t, n)
	bin := buildBinary(t)

	first := startProcess(t, bin, dbURL)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		users, _, _ := usersApplied(t, pool)
		if users >= n/10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d users projected in 2 minutes", users)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL: no chance to clean up
		t.Fatal(err)
	}
	_, _ = first.Process.Wait()
	atKill, _, _ := usersApplied(t, pool)
	if atKill >= n {
		t.Fatalf("catch-up had finished (%d users) before the kill: raise n", atKill)
	}
	t.Logf("killed with %d of %d users projected", atKill, n)

	startProcess(t, bin, dbURL)
	deadline = time.Now().Add(3 * time.Minute)
	for {
		at, _ := projections.LiveCheckpoint(context.Background(), pool, projections.Users{}.Name())
		if !at.Less(head) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted process did not reach the head %v (at %v)", head, at)
		}
		time.Sleep(20 * time.Millisecond)
	}
	users, invitations, counted := usersApplied(t, pool)
	if users != n || invitations != 3*n || counted != 3*n {
		t.Fatalf("after restart: %d users, %d invitations, invitation counts sum to %d; want %d, %d, %d",
			users, invitations, counted, n, 3*n, 3*n)
	}
}
