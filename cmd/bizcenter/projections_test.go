package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/eventstore/esdb/esdbfake"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/internal/seed"
	"github.com/bizcenter/bizcenter/service"
)

// Over EventStoreDB, with 30 events in the log and no projector built yet,
// status says each projector is 30 events behind the log's head.
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
		if !strings.Contains(l, ", 30 events (") || strings.Contains(l, "head 0-0") {
			t.Errorf("status line %q: want 30 events behind a head past the start", l)
		}
	}
}
