package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore/esdb/esdbfake"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/internal/seed"
	"github.com/bizcenter/bizcenter/projections"
	"github.com/bizcenter/bizcenter/service"
)

// Over EventStoreDB, with 30 events in the log and no projector built yet,
// status says each projector has no build and 30 events to apply, and no
// state: it said "live" of a projector nothing had built.
func TestStatus_over_EventStoreDB_counts_the_events_behind(t *testing.T) {
	ctx := context.Background()
	fake := esdbfake.New()
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Stop)
	tools, err := service.OpenTools(ctx, service.Config{DatabaseURL: pgtest.URL(t), EventStoreURL: fake.ConnectionString(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer tools.Close()
	if _, err := seed.Invitations(ctx, tools.Store, 10, 3); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printStatus(ctx, tools, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(service.ProjectorNames()) {
		t.Fatalf("status printed:\n%s\nwant a line for each of %v", out.String(), service.ProjectorNames())
	}
	for _, l := range lines {
		if !strings.Contains(l, ": no build yet") || !strings.HasSuffix(l, "s) to apply") || !strings.Contains(l, ", 30 events (") || strings.Contains(l, "head 0-0") {
			t.Errorf("status line %q: want no build, and 30 events to apply up to a head past the start", l)
		}
	}
}

// cancelOnWrite cancels a context at the first write: the first progress
// line of a rebuild, its first page applied.
type cancelOnWrite struct {
	cancel context.CancelFunc
	out    bytes.Buffer
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	c.cancel()
	return c.out.Write(p)
}

// rebuilt seeds users invitations of perUser events each and rebuilds the
// users read model: the tools, the arguments of that rebuild, and the
// build it made.
func rebuilt(t *testing.T, users, perUser int) (*service.Tools, []string, projections.Active) {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	log := slog.New(slog.DiscardHandler)
	tools, err := service.OpenTools(ctx, service.Config{DatabaseURL: url, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tools.Close)
	if _, err := seed.Invitations(ctx, tools.Store, users, perUser); err != nil {
		t.Fatal(err)
	}
	args := []string{"rebuild", "--database-url", url, "users"}
	var stdout, stderr bytes.Buffer
	if err := projectionsCmd(ctx, args, &stdout, &stderr, log); err != nil {
		t.Fatalf("first rebuild: %v\n%s", err, stderr.String())
	}
	before, err := projections.ActiveBuild(ctx, tools.Pool, "users")
	if err != nil {
		t.Fatal(err)
	}
	return tools, args, before
}

// A rebuild interrupted (Ctrl-C) says it dropped its build, exits 130,
// and leaves readers on the build they read before.
func TestRebuild_interrupted_says_what_it_left(t *testing.T) {
	ctx, log := context.Background(), slog.New(slog.DiscardHandler)
	tools, args, before := rebuilt(t, 2000, 5)
	interrupt, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	err := projectionsCmd(interrupt, args, &bytes.Buffer{}, w, log)
	if !errors.As(err, new(stopped)) || exitCode(err) != 130 || !strings.Contains(err.Error(), "dropped") {
		t.Fatalf("interrupted rebuild: %v (exit %d), progress %q; want what it left, exit 130", err, exitCode(err), w.out.String())
	}
	after, err := projections.ActiveBuild(ctx, tools.Pool, "users")
	if err != nil || after.Schema != before.Schema {
		t.Errorf("active build %s after the interrupted rebuild (%v), want %s still", after.Schema, err, before.Schema)
	}
	var builds []string
	rows, _ := tools.Pool.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rm\_users\_%' ORDER BY 1`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		builds = append(builds, s)
	}
	if err := rows.Err(); err != nil || len(builds) != 1 || builds[0] != before.Schema {
		t.Errorf("builds of users left: %v (%v), want only %s", builds, err, before.Schema)
	}
}

// A rebuild interrupted once it has switched (while it drops the build
// readers read before, which waits for them) does not say that its build
// was dropped: readers read the new one.
func TestRebuild_interrupted_after_its_switch_says_so(t *testing.T) {
	ctx, log := context.Background(), slog.New(slog.DiscardHandler)
	tools, args, before := rebuilt(t, 20, 2)
	// A reader of the build before: its drop waits for it.
	reader, err := tools.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback(ctx) //nolint:errcheck
	var table string
	if err := reader.QueryRow(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 LIMIT 1`, before.Schema).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.Exec(ctx, `LOCK TABLE `+pgx.Identifier{before.Schema, table}.Sanitize()+` IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	interrupt, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- projectionsCmd(interrupt, args, &bytes.Buffer{}, &bytes.Buffer{}, log) }()
	for deadline := time.Now().Add(20 * time.Second); ; {
		var waiting bool
		if err := tools.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'DROP SCHEMA%')`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no drop of the build before waited for its reader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	err = <-done
	after, aerr := projections.ActiveBuild(ctx, tools.Pool, "users")
	if aerr != nil || after.Schema == before.Schema {
		t.Fatalf("active build %s (%v): the rebuild did not switch", after.Schema, aerr)
	}
	if err == nil || exitCode(err) != 130 || strings.Contains(err.Error(), "dropped") || !strings.Contains(err.Error(), after.Schema) {
		t.Errorf("interrupted after switching to %s: %v (exit %d); want it said, exit 130", after.Schema, err, exitCode(err))
	}
}

// Each dead letter is one line, its fields apart by tabs, whatever its
// error and its skip's reason hold: a reason written on two lines began a
// line of its own, and a tab in an error a field.
func TestDeadLetters_lists_each_letter_on_one_line(t *testing.T) {
	ctx := context.Background()
	tools, err := service.OpenTools(ctx, service.Config{DatabaseURL: pgtest.URL(t), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer tools.Close()
	if _, err := tools.Pool.Exec(ctx, `
		INSERT INTO projection_dead_letters (projector, event_id, stream, commit_pos, prepare_pos, event_type,
		    data, metadata, revision, recorded_at, status, error, attempts, resolved_by, resolved_reason)
		VALUES ('users', gen_random_uuid(), 'user-1', 10, 10, 'user.invited', '{}', '{}', 0, now(), 'skipped',
		    E'ERROR: bad value\nDETAIL:\tthe row', 3, 'ann', E'ticket 7:\nthe payload was edited')`); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := printDeadLetters(ctx, tools, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 1 || strings.Count(lines[0], "\t") != 5 || !strings.HasSuffix(lines[0], "by ann: ticket 7: the payload was edited") {
		t.Fatalf("dead letters:\n%q\nwant one line of six fields", out.String())
	}
}
