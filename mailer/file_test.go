package mailer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bizcenter/bizcenter/mailer"
)

func TestFileSender_writes_one_sortable_eml_per_message(t *testing.T) {
	dir := t.TempDir()
	s := mailer.FileSender{Dir: dir}
	for i := range 5 {
		m := mailer.Message{To: "a@example.com", Subject: fmt.Sprint("n", i), TextBody: "hello"}
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 {
		t.Fatalf("%d files, want 5 (no temporary files left): %v", len(entries), entries)
	}
	var names []string
	for i, e := range entries { // ReadDir sorts by name
		if filepath.Ext(e.Name()) != ".eml" {
			t.Errorf("file %s is not .eml", e.Name())
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m, _ := parse(t, raw)
		if got := m.Header.Get("Subject"); got != fmt.Sprint("n", i) {
			t.Errorf("file %d (%s) has subject %q: names do not sort in sending order", i, e.Name(), got)
		}
		names = append(names, e.Name())
	}
	if len(slices.Compact(names)) != 5 {
		t.Errorf("names not unique: %v", names)
	}
}

func TestFileSender_fails_on_a_missing_directory(t *testing.T) {
	s := mailer.FileSender{Dir: filepath.Join(t.TempDir(), "missing")}
	if err := s.Send(context.Background(), mailer.Message{To: "a@example.com"}); err == nil {
		t.Fatal("no error")
	}
}

func TestFileSender_MakeDir_creates_a_missing_directory(t *testing.T) {
	s := mailer.FileSender{Dir: filepath.Join(t.TempDir(), "mail", "dev")}
	if err := s.MakeDir(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mailer.Message{To: "a@example.com", Subject: "s", TextBody: "hello"}); err != nil {
		t.Fatalf("send after MakeDir: %v", err)
	}
	if err := s.MakeDir(); err != nil {
		t.Fatalf("an existing directory: %v", err)
	}
}

func TestFileSender_MakeDir_fails_where_no_directory_can_be(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (mailer.FileSender{Dir: filepath.Join(file, "mail")}).MakeDir(); err == nil {
		t.Fatal("a directory under a file")
	}
}
