// Package esdb is the EventStoreDB adapter of the eventstore port, built on
// the official Go client (EventStore-Client-Go v4).
//
// What it adds to the client: wrong-expected-version errors with the
// stream's actual revision; $all reads that are exclusive of the given
// position and hold no system events; subscriptions that reopen themselves
// after a drop (the client never does) from the last position delivered;
// a fresh client when the old one gave up after a failed discovery (the
// client never recovers from that); and contexts honoured on every call.
package esdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/bizcenter/bizcenter/eventstore"
)

// Store implements eventstore.Store over EventStoreDB.
type Store struct {
	conn *conn
	opts options
}

var _ eventstore.Store = (*Store)(nil)

// Option tunes a Store.
type Option func(*options)

type options struct {
	logger        *slog.Logger
	minBackoff    time.Duration
	maxBackoff    time.Duration
	maxAppendSize int
}

// WithLogger sets the logger for the adapter and the client (whose info
// lines are logged at debug level, its warnings and errors at warn).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithReconnectBackoff bounds the wait between attempts to reopen a dropped
// subscription; it doubles from min to max, with jitter.
func WithReconnectBackoff(minWait, maxWait time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = minWait, maxWait }
}

// WithMaxAppendSize is the server's MaxAppendSize setting, in bytes
// (default 1 MiB, the server's own default): appends past it are refused
// before they are sent.
func WithMaxAppendSize(n int) Option { return func(o *options) { o.maxAppendSize = n } }

// New connects to the server named by an esdb:// connection string (for
// example "esdb://localhost:2113?tls=false"). It reads one event of $all
// to fail fast on a wrong address or credentials; ctx bounds that.
func New(ctx context.Context, connectionString string, opts ...Option) (*Store, error) {
	o := options{logger: slog.Default(), minBackoff: 100 * time.Millisecond, maxBackoff: 5 * time.Second, maxAppendSize: 1 << 20}
	for _, opt := range opts {
		opt(&o)
	}
	if o.minBackoff <= 0 || o.maxBackoff < o.minBackoff {
		return nil, fmt.Errorf("eventstore esdb: reconnect backoff %v..%v: want 0 < min <= max", o.minBackoff, o.maxBackoff)
	}
	cfg, err := esdb.ParseConnectionString(connectionString)
	if err != nil {
		// A URL error quotes the whole string, credentials included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("eventstore esdb: parse connection string: %w", err)
	}
	cfg.Logger = clientLogger(o.logger)
	c, err := newConn(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("eventstore esdb: %w", err)
	}
	s := &Store{conn: c, opts: o}
	if _, err := s.readAllPage(ctx, esdb.End{}, esdb.Backwards, 1); err != nil {
		s.conn.close()
		return nil, fmt.Errorf("eventstore esdb: connect to %s: %w", cfg.Address, err)
	}
	return s, nil
}

// Ping reads one event of $all, as New does: it fails while the server
// cannot be reached (wrapping eventstore.ErrUnavailable), where the
// client alone would not say so until the next command.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.conn.scope(ctx)
	defer cancel()
	_, err := s.readAllPage(ctx, esdb.End{}, esdb.Backwards, 1)
	return err
}

// Close ends every subscription and call in flight and releases the client.
func (s *Store) Close() error {
	s.conn.close()
	return nil
}

// clientLogger routes the client's printf-style lines to slog. The client
// sometimes passes its arguments as one slice (configuration.applyLogger),
// which is unpacked here.
func clientLogger(l *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		if len(args) == 1 {
			if inner, ok := args[0].([]any); ok {
				args = inner
			}
		}
		msg := "esdb client: " + fmt.Sprintf(format, args...)
		// The client logs a subscription closed by its owner as an error.
		if (level == esdb.LogWarn || level == esdb.LogError) && !strings.Contains(msg, "code = Canceled") {
			l.Warn(msg)
			return
		}
		l.Debug(msg)
	}
}
