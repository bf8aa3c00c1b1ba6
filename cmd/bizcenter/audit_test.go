package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

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
