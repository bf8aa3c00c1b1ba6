package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// serve makes MAIL_DIR, or stops at once when it cannot: without it every
// invitation would fail while /readyz said ready.
func TestServe_stops_when_MAIL_DIR_cannot_be_made(t *testing.T) {
	t.Setenv("BIZCENTER_JWT_SECRET", "a secret of 16 bytes or more")
	t.Setenv("SMTP_ADDR", "")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := serve(context.Background(), []string{"--database-url", "postgres://127.0.0.1:1/none", "--mail-dir", filepath.Join(file, "mail")},
		io.Discard, slog.New(slog.DiscardHandler))
	if err == nil || !strings.HasPrefix(err.Error(), "MAIL_DIR: ") {
		t.Fatalf("serve: %v, want a MAIL_DIR error", err)
	}
}
