package esdb

import (
	"os"
	"testing"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/conformance"
)

func TestConformance_over_the_fake(t *testing.T) {
	fake := startFake(t)
	conformance.Run(t, func(t *testing.T) eventstore.Store {
		return newStore(t, fake.ConnectionString())
	}, conformance.Options{})
}

// ESDB_URL names a real server, for example
// esdb://localhost:2113?tls=false for one started with --insecure.
func TestConformance_against_a_real_server(t *testing.T) {
	url := os.Getenv("ESDB_URL")
	if url == "" {
		t.Skip("no EventStoreDB server configured (ESDB_URL unset)")
	}
	conformance.Run(t, func(t *testing.T) eventstore.Store {
		return newStore(t, url)
	}, conformance.Options{})
}
