// Package esdbfake is an in-process fake of the EventStoreDB gRPC protocol,
// as the official Go client v4.2.0 uses it: Streams.Append and Streams.Read
// (reads of a stream and of $all, and catch-up subscriptions). Every other
// method and service answers Unimplemented, which the client accepts for
// ServerFeatures. It is for tests only: import it from _test.go files.
//
// The data lives in memory for the life of the Server, across Stop and
// Start, so a test can cut the network and bring the server back.
package esdbfake

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Server is the fake. The zero value is not usable: call New.
type Server struct {
	db *db
	// timeouts is how many of the next successful appends are answered
	// as a server whose commit timed out (see TimeOutAppends).
	timeouts atomic.Int64

	mu   sync.Mutex
	addr string // fixed by the first Start, reused by later ones
	srv  *grpc.Server
}

// New returns a stopped server holding a few system events, as a fresh
// EventStoreDB node does.
func New() *Server { return &Server{db: newDB()} }

// Start listens on 127.0.0.1: on a free port the first time, on the same
// port afterwards.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("esdbfake: already started")
	}
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("esdbfake: listen on %s: %w", addr, err)
	}
	s.addr = lis.Addr().String()
	s.srv = grpc.NewServer(
		// The client pings every 10 s even without streams; grpc-go's
		// default policy (5 min) answers that with GOAWAY too_many_pings.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
		grpc.MaxRecvMsgSize(17<<20),
	)
	streams.RegisterStreamsServer(s.srv, &service{db: s.db, timeouts: &s.timeouts})
	go s.srv.Serve(lis) //nolint:errcheck // Serve returns when Stop closes the listener.
	return nil
}

// Stop closes the listener and every connection at once, dropping live
// subscriptions as a crashed node or a cut network would. Stop is not
// graceful on purpose: subscriptions have no deadline.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Stop()
		s.srv = nil
	}
}

// Restart stops the server and starts it again on the same port.
func (s *Server) Restart() error {
	s.Stop()
	return s.Start()
}

// TimeOutAppends makes the next n appends that succeed answer as a server
// whose prepare or commit timed out does (Streams.Append.cs: PrepareTimeout,
// CommitTimeout and ForwardTimeout become RpcExceptions.Timeout, gRPC
// Aborted "Operation timed out: ..."). The events are written all the
// same, as they may be on a real server: the outcome is unknown to the
// client, and a retry with the same ids is answered with the first result.
func (s *Server) TimeOutAppends(n int) { s.timeouts.Store(int64(n)) }

// Addr is host:port, known after the first Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// ConnectionString is an esdb:// URL for the client, without TLS.
func (s *Server) ConnectionString() string {
	return "esdb://" + s.Addr() + "?tls=false"
}

// service implements the Streams service; the embedded type answers
// Unimplemented for Delete, Tombstone and BatchAppend.
type service struct {
	streams.UnimplementedStreamsServer
	db       *db
	timeouts *atomic.Int64
}
