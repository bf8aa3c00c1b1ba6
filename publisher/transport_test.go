package publisher_test

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/streadway/amqp"

	"github.com/bizcenter/bizcenter/publisher"
)

// The publisher holds one NATS connection for the life of the process.
// With nats.go's default of 60 reconnect attempts, two seconds apart, a
// broker away for over two minutes closed it for good: every batch after
// failed with "nats: connection closed", also once the broker was back,
// until the process was restarted. It must keep trying for as long as the
// broker is away, as the AMQP transport does.
func TestNATSConfig_reconnects_for_as_long_as_the_broker_is_away(t *testing.T) {
	opts := nats.GetDefaultOptions()
	for _, o := range publisher.NATSConfig("nats://127.0.0.1:4222").NatsOptions {
		if err := o(&opts); err != nil {
			t.Fatal(err)
		}
	}
	if opts.MaxReconnect >= 0 {
		t.Errorf("the publisher's NATS connection gives up after %d reconnect attempts (%s apart); it must never give up",
			opts.MaxReconnect, opts.ReconnectWait)
	}
}

// A topic is letters, digits, - and _ (it names a JetStream stream, an
// AMQP exchange and queue, and a PostgreSQL table). One with any other
// character passed the check, the service started, and every batch then
// failed at the broker, five times a second, for good.
func TestConfig_refuses_a_topic_of_other_characters(t *testing.T) {
	for _, topic := range []string{"events/v1", "a;b", "bizcenter integration", "tópico", "a\\b", "a'b", "a.b", "a*"} {
		if err := (publisher.Config{Transport: publisher.Postgres, Topic: topic}).Validate(); err == nil {
			t.Errorf("topic %q accepted", topic)
		}
	}
	for _, topic := range []string{"", "bizcenter-integration", "Events_v1"} {
		if err := (publisher.Config{Transport: publisher.Postgres, Topic: topic}).Validate(); err != nil {
			t.Errorf("topic %q refused: %v", topic, err)
		}
	}
}

// A broker away when the service starts no longer keeps it from starting
// (its API and read models with it): Open gives a publisher that connects
// at the first publish that can, as a broker that goes away later only
// holds the publisher's batches back.
func TestOpen_a_broker_away_at_start_is_connected_to_once_it_is_back(t *testing.T) {
	for _, transport := range []string{publisher.NATS, publisher.AMQP} {
		t.Run(transport, func(t *testing.T) {
			real, err := url.Parse(brokerURL(t, transport))
			if err != nil {
				t.Fatal(err)
			}
			away := *real
			away.Host = freeAddr(t)
			pub, err := publisher.Open(publisher.Config{Transport: transport, URL: away.String(), Topic: "away_at_start_" + transport}, nil, quiet())
			if err != nil {
				t.Fatalf("open with the broker away: %v", err)
			}
			defer pub.Close()
			msg := func() *message.Message { return message.NewMessage(uuid.NewString(), []byte(`{}`)) }
			if err := pub.Publish("away_at_start_"+transport, msg()); err == nil {
				t.Fatal("published with the broker away")
			}
			forward(t, away.Host, real.Host) // the broker is back
			if err := pub.Publish("away_at_start_"+transport, msg()); err != nil {
				t.Fatalf("with the broker back: %v", err)
			}
		})
	}
}

// freeAddr is a loopback address nothing listens on (until forward).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// forward listens on from and relays each connection to to, until the
// test ends.
func forward(t *testing.T, from, to string) {
	t.Helper()
	l, err := net.Listen("tcp", from)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", to)
			if err != nil {
				_ = in.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, in, out)
			mu.Unlock()
			go func() { _, _ = io.Copy(out, in) }()
			go func() { _, _ = io.Copy(in, out) }()
		}
	}()
}

// A RabbitMQ that comes back without the topic's exchange and queue (a
// new node, a container without its volume, an administrator's cleanup)
// must get them declared again. watermill-amqp declares a topic's
// exchange once, on a publisher's first publish, and the queue was
// declared only when the service started: every batch after was refused
// (404 NOT_FOUND: no exchange), for good, until the service restarted.
// The batch refused is published again (the feed delivers it again), so
// one failed attempt is allowed; the next must go through, into the
// durable queue declared again.
func TestOpen_amqp_declares_the_exchange_and_queue_again_when_the_broker_lost_them(t *testing.T) {
	u := brokerURL(t, publisher.AMQP)
	top := topic(t)
	pub, err := publisher.Open(publisher.Config{Transport: publisher.AMQP, URL: u, Topic: top}, nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	msg := func() *message.Message { return message.NewMessage(uuid.NewString(), []byte(`{}`)) }
	if err := pub.Publish(top, msg()); err != nil {
		t.Fatal(err)
	}

	conn, err := amqp.Dial(u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ch.QueueDelete(top, false, false, false); _ = ch.ExchangeDelete(top, false, false) })
	if _, err := ch.QueueDelete(top, false, false, false); err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDelete(top, false, false); err != nil {
		t.Fatal(err)
	}

	want := msg()
	for attempt := 1; ; attempt++ {
		err := pub.Publish(top, want)
		if err == nil {
			break
		}
		if attempt == 3 {
			t.Fatalf("the broker lost the exchange and queue %s: publish still refused after %d attempts: %v", top, attempt, err)
		}
	}
	got, ok, err := ch.Get(top, true)
	if err != nil || !ok {
		t.Fatalf("the durable queue %s holds nothing after the publish (got %v, %v)", top, ok, err)
	}
	if id := got.Headers["_watermill_message_uuid"]; id != want.UUID {
		t.Errorf("the queue holds message %v, want %s", id, want.UUID)
	}
}
