package esdbfake

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

func client(t *testing.T, s *Server) *esdb.Client {
	t.Helper()
	cfg, err := esdb.ParseConnectionString(s.ConnectionString())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The official client reads back what it wrote, across a restart on the
// same port.
func TestServer_restart_keeps_the_port_and_the_data(t *testing.T) {
	s := New()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	addr := s.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id := uuid.New()
	ev := esdb.EventData{EventID: id, EventType: "thing.done", ContentType: esdb.ContentTypeJson, Data: []byte(`{"a":1}`)}
	if _, err := client(t, s).AppendToStream(ctx, "thing-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, ev); err != nil {
		t.Fatal(err)
	}

	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("restarted on %s, was %s", s.Addr(), addr)
	}
	rs, err := client(t, s).ReadStream(ctx, "thing-1", esdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	got, err := rs.Recv()
	if err != nil {
		t.Fatal(err)
	}
	e := got.OriginalEvent()
	if e.EventID != id || e.EventType != "thing.done" || string(e.Data) != `{"a":1}` || e.CreatedDate.IsZero() {
		t.Fatalf("read back %+v", e)
	}
	if _, err := rs.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("want the end of the stream, got %v", err)
	}
}
