package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/internal/seed"
	"github.com/bizcenter/bizcenter/service"
)

// An export read from a pipe (--in <(zcat export.jsonl.gz)) cannot be read
// twice: it is imported as it streams, its chains checked on the way.
func TestAuditImport_reads_an_export_from_a_pipe(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	from, err := service.OpenTools(ctx, service.Config{DatabaseURL: pgtest.URL(t), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	if _, err := seed.Invitations(ctx, from.Store, 3, 2); err != nil {
		t.Fatal(err)
	}
	var export bytes.Buffer
	if _, err := audit.Export(ctx, from.Store, &export, audit.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "export.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, bytes.NewReader(export.Bytes()))
	}()
	var stderr bytes.Buffer
	if err := auditImport(ctx, []string{"--in", fifo, "--database-url", pgtest.URL(t)}, nil, &stderr, log); err != nil {
		t.Fatalf("import from a pipe: %v\n%s", err, stderr.String())
	}
}

// A verify that ran and found a break exits 1; one that could not check
// (no such file, a line that is not JSON) exits 2, so that a script tells
// tampering from trouble.
func TestAuditVerify_exits_1_on_a_break_and_2_when_it_cannot_check(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	unsealed := write("unsealed.jsonl", `{"id":"`+uuid.NewString()+`","stream":"s-1","revision":0,"type":"thing.happened","data":{},"metadata":{}}`+"\n")
	for path, want := range map[string]int{
		unsealed:                              1,
		write("garbled.jsonl", "{not json\n"): 2,
		filepath.Join(dir, "missing.jsonl"):   2,
	} {
		err := run(context.Background(), []string{"audit", "verify", "--in", path}, io.Discard, io.Discard)
		if err == nil || exitCode(err) != want {
			t.Errorf("verify --in %s: %v, exit %d; want exit %d", filepath.Base(path), err, exitCode(err), want)
		}
	}
}

// An export cut short leaves nothing under its name (a prefix of an
// export verifies), and an earlier file there as it was; a whole one
// takes the name.
func TestExportFile_takes_its_name_only_whole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "export.jsonl")
	if err := os.WriteFile(path, []byte("earlier\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := newExportFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("half an export\n")
	if err := f.finish(context.Canceled); err != context.Canceled {
		t.Fatalf("finish after a failed export: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "earlier\n" {
		t.Errorf("after a failed export the file reads %q (%v), want the earlier file", b, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*partial")); len(left) != 0 {
		t.Errorf("a failed export left %v", left)
	}

	f, err = newExportFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("a whole export\n")
	if err := f.finish(nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "a whole export\n" {
		t.Errorf("after an export the file reads %q (%v)", b, err)
	}
}

// A FILE that is a pipe (--out >(gzip > f), a FIFO) is written to as it
// streams, as before, not replaced by a regular file; a symlink stays a
// symlink and the file it names takes the export; a replaced file keeps
// its permissions.
func TestExportFile_pipes_symlinks_and_permissions(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		read <- string(b)
	}()
	f, err := newExportFile(fifo)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("a whole export\n")
	if err := f.finish(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-read:
		if got != "a whole export\n" {
			t.Errorf("the pipe's reader read %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Error("the pipe's reader read nothing")
	}
	if info, err := os.Lstat(fifo); err != nil || info.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO is now %v (%v)", info.Mode(), err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if f, err := newExportFile(fmt.Sprintf("/dev/fd/%d", w.Fd())); err != nil {
		t.Errorf("--out /dev/fd/N (a process substitution): %v", err)
	} else {
		_ = f.finish(nil)
	}

	target := filepath.Join(dir, "2026-12-07.jsonl")
	if err := os.WriteFile(target, []byte("earlier\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "latest.jsonl")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if f, err = newExportFile(link); err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString("a whole export\n")
	if err := f.finish(nil); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symlink is now %v (%v)", info.Mode(), err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "a whole export\n" {
		t.Errorf("the file the link names reads %q (%v)", b, err)
	}
	if info, err := os.Stat(target); err != nil || info.Mode().Perm() != 0o640 {
		t.Errorf("the replaced file's permissions: %v (%v), want 0640", info.Mode().Perm(), err)
	}
}

// A file named without its flag, a flag after it (which the flag package
// then takes for an argument), or a window that ends before it begins
// are mistakes reported before anything connects (here to a database
// that is not there). Export and import took them silently: `audit
// export log.jsonl --account ID` wrote every account's events to
// standard output, and `audit import log.jsonl` read standard input and
// reported 0 events imported, exit 0.
func TestAudit_export_and_import_mistakes_are_reported_before_connecting(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	for args, want := range map[string]string{
		"export log.jsonl": `unexpected "log.jsonl" (a file is named with --out)`,
		"export --out x.jsonl log.jsonl --account 01a20170-a01d-7000-8000-000000000001": `unexpected "log.jsonl"`,
		"export --from 2026-12-01T00:00:00Z --to 2026-11-01T00:00:00Z":                  "--to: before --from",
		"import log.jsonl":                                   `unexpected "log.jsonl" (a file is named with --in)`,
		"import --in a.jsonl b.jsonl":                        `unexpected "b.jsonl"`,
		"export --from 2026-11-01T00:00:00Z":                 "127.0.0.1:1", // well formed: it connects
		"export --from 2026-11-01 --to 2026-12-01":           "127.0.0.1:1", // dates, their midnight UTC
		"export --from 2026-12-01 --to 2026-11-30T23:00:00Z": "--to: before --from",
		"export --from 2026-13-01":                           "--from: parsing time",
	} {
		err := run(context.Background(), append([]string{"audit"}, strings.Fields(args)...), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) || exitCode(err) != 1 {
			t.Errorf("audit %s: %v (exit %d); want %q, exit 1", args, err, exitCode(err), want)
		}
	}
}

// An import of a file that is not there, or an export into a directory
// that is not there, says so before anything connects: each connected,
// and so migrated the database, first. An export that then cannot
// connect leaves nothing beside FILE.
func TestAudit_a_missing_file_or_directory_is_reported_before_connecting(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	dir := t.TempDir()
	for _, args := range [][]string{
		{"audit", "import", "--in", filepath.Join(dir, "log.jsonl")},
		{"audit", "export", "--out", filepath.Join(dir, "typo", "log.jsonl")},
	} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "no such file") || strings.Contains(err.Error(), "127.0.0.1:1") || exitCode(err) != 1 {
			t.Errorf("%v: %v (exit %d); want it named, exit 1, before connecting", args, err, exitCode(err))
		}
	}
	err := run(context.Background(), []string{"audit", "export", "--out", filepath.Join(dir, "log.jsonl")}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("an export to a database that is not there: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("an export that could not connect left %v", left)
	}
}

// An import that Ctrl-C stopped while its file was verified, before it
// connected, exits 130 saying nothing was imported, as an interrupted
// import does, not 1 with the connection's "context canceled".
func TestAudit_import_interrupted_before_connecting_exits_130(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	path := filepath.Join(t.TempDir(), "log.jsonl")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := run(ctx, []string{"audit", "import", "--in", path}, io.Discard, io.Discard)
	if exitCode(err) != 130 || !strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("an interrupted import: %v (exit %d), want exit 130 saying nothing was imported", err, exitCode(err))
	}
}
