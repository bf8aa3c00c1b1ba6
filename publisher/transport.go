package publisher

import (
	"cmp"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/pkg/amqp"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/streadway/amqp"
)

// The transports.
const (
	NATS     = "nats"     // NATS JetStream: a stream named by the topic
	AMQP     = "amqp"     // RabbitMQ: a durable fanout exchange and a durable queue, both named by the topic
	Postgres = "postgres" // watermill-sql: the table watermill_<topic> in bizcenter's own database
)

// Config chooses the broker.
type Config struct {
	// Transport is NATS, AMQP or Postgres; empty publishes nothing.
	Transport string
	// URL is the broker's (nats://…, amqp://…); Postgres uses the
	// service's database and takes none.
	URL string
	// Topic is where every event goes (DefaultTopic when empty).
	Topic string
}

// topicName is what every transport takes as a name: a JetStream stream,
// an AMQP exchange and queue, and a PostgreSQL table (watermill_<topic>).
// Anything else must be refused at start: the broker refuses it only at
// each publish, and the publisher retries that for good.
var topicName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Validate reports every problem.
func (c Config) Validate() error {
	var errs []error
	switch c.Transport {
	case "":
		// Else a URL or topic set with the transport forgotten (or
		// misspelt in the environment) publishes nothing, in silence.
		if c.URL != "" || c.Topic != "" {
			errs = append(errs, errors.New("publisher: a URL or topic without a transport publishes nothing: name the transport (nats, amqp or postgres)"))
		}
	case NATS:
		if !strings.HasPrefix(c.URL, "nats://") {
			errs = append(errs, errors.New("publisher: the nats transport needs a nats:// URL"))
		}
	case AMQP:
		if !strings.HasPrefix(c.URL, "amqp://") && !strings.HasPrefix(c.URL, "amqps://") {
			errs = append(errs, errors.New("publisher: the amqp transport needs an amqp:// or amqps:// URL"))
		}
	case Postgres:
		if c.URL != "" {
			errs = append(errs, errors.New("publisher: the postgres transport writes to the service's database and takes no URL"))
		}
	default:
		errs = append(errs, fmt.Errorf("publisher: unknown transport %q (nats, amqp or postgres)", c.Transport))
	}
	if c.Topic != "" && !topicName.MatchString(c.Topic) {
		errs = append(errs, fmt.Errorf("publisher: the topic %q is not letters, digits, - and _", c.Topic))
	}
	return errors.Join(errs...)
}

// Open connects the configured transport's watermill publisher. db is the
// service's database, for the Postgres transport. A broker that cannot be
// reached is connected to at the first publish that can (see opening).
func Open(c Config, db *sql.DB, log *slog.Logger) (message.Publisher, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	log = cmp.Or(log, slog.Default())
	open := func() (message.Publisher, error) { return c.open(db, log) }
	var stale func(message.Publisher) bool
	if c.Transport == AMQP {
		stale = refusedWhileConnected
	}
	pub, err := open()
	if err != nil && c.Transport != Postgres {
		log.Warn("the broker cannot be reached: events are published once it can", "transport", c.Transport, "error", err)
		return &opening{open: open, stale: stale}, nil
	}
	if err != nil || stale == nil {
		return pub, err
	}
	return &opening{open: open, stale: stale, pub: pub}, nil
}

// refusedWhileConnected reports whether an AMQP publisher whose publish
// failed must be replaced: the broker answered, and refused. watermill-amqp
// declares a topic's exchange once per publisher, on its first publish,
// and open declares the durable queue: a broker that came back without
// them (a new node, a container without its volume, an exchange deleted)
// refused every later publish (404 NOT_FOUND) until the service was
// restarted. A new publisher declares both again. One not connected is
// kept: it reconnects by itself while the broker is away.
func refusedWhileConnected(pub message.Publisher) bool {
	p, ok := pub.(*wamqp.Publisher)
	return ok && p.IsConnected()
}

// open connects the configured transport's publisher.
func (c Config) open(db *sql.DB, log *slog.Logger) (message.Publisher, error) {
	logger := watermill.NewSlogLogger(log)
	topic := cmp.Or(c.Topic, DefaultTopic)
	switch c.Transport {
	case NATS:
		return wnats.NewPublisher(NATSConfig(c.URL), logger)
	case AMQP:
		cfg := AMQPConfig(c.URL)
		pub, err := wamqp.NewPublisher(cfg, logger)
		if err != nil {
			return nil, fmt.Errorf("amqp: %w", err)
		}
		// The durable queue named by the topic keeps every event from the
		// first one on, whoever listens; other consumers bind their own.
		sub, err := wamqp.NewSubscriber(cfg, logger)
		if err == nil {
			err = sub.SubscribeInitialize(topic)
			_ = sub.Close()
		}
		if err != nil {
			_ = pub.Close()
			return nil, fmt.Errorf("amqp: declare queue %s: %w", topic, err)
		}
		return pub, nil
	case Postgres:
		return wsql.NewPublisher(db, wsql.PublisherConfig{SchemaAdapter: wsql.DefaultPostgreSQLSchema{}, AutoInitializeSchema: true}, logger)
	}
	return nil, errors.New("publisher: no transport configured")
}

// NATSConfig publishes to JetStream and waits for its acknowledgement of
// each message. The stream is created if missing; the message id
// (Nats-Msg-Id, the event id) lets JetStream drop a republished event
// within its duplicate window. The connection reconnects for as long as
// the broker is away: it is the process's only one, and nats.go's default
// (60 attempts, 2 seconds apart) closed it for good after a two-minute
// outage, so that nothing was published again until a restart.
func NATSConfig(url string) wnats.PublisherConfig {
	return wnats.PublisherConfig{
		URL: url, Marshaler: &wnats.NATSMarshaler{},
		NatsOptions: []nats.Option{nats.Name("bizcenter publisher"), nats.MaxReconnects(-1)},
		JetStream:   wnats.JetStreamConfig{AutoProvision: true, TrackMsgId: true},
	}
}

// AMQPConfig is a durable fanout exchange named by the topic, persistent
// messages, each Publish in an AMQP transaction (the broker has taken the
// messages when it returns), and the event id as the AMQP message id.
func AMQPConfig(url string) wamqp.Config {
	cfg := wamqp.NewDurablePubSubConfig(url, wamqp.GenerateQueueNameTopicName)
	cfg.Publish.Transactional = true
	cfg.Marshaler = wamqp.DefaultMarshaler{PostprocessPublishing: func(p amqp.Publishing) amqp.Publishing {
		if id, ok := p.Headers[MetaID].(string); ok {
			p.MessageId = id
		}
		if t, ok := p.Headers[MetaType].(string); ok {
			p.Type = t
		}
		p.ContentType = "application/cloudevents+json"
		return p
	}}
	return cfg
}

// opening is a publisher whose broker could not be reached when the
// service started, or whose publisher must be replaced after some
// failures (stale): each Publish tries to connect until one does. A
// broker away at start stopped the whole service, its API and read
// models too, where one that goes away later only holds the publisher's
// batches back (the feed delivers them again, and the monitor shows the
// publisher behind).
type opening struct {
	mu   sync.Mutex
	open func() (message.Publisher, error)
	pub  message.Publisher
	// stale reports whether a publisher whose publish failed is to be
	// closed, and a new one opened at the next publish (nil: never).
	stale func(message.Publisher) bool
}

func (o *opening) Publish(topic string, msgs ...*message.Message) error {
	o.mu.Lock()
	if o.pub == nil {
		pub, err := o.open()
		if err != nil {
			o.mu.Unlock()
			return fmt.Errorf("connect: %w", err)
		}
		o.pub = pub
	}
	pub := o.pub
	o.mu.Unlock()
	err := pub.Publish(topic, msgs...)
	if err != nil && o.stale != nil && o.stale(pub) {
		o.drop(pub)
	}
	return err
}

// drop closes pub, for the next Publish to open a new one.
func (o *opening) drop(pub message.Publisher) {
	o.mu.Lock()
	if o.pub == pub {
		o.pub = nil
	}
	o.mu.Unlock()
	_ = pub.Close()
}

func (o *opening) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pub == nil {
		return nil
	}
	return o.pub.Close()
}
