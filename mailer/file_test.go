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
