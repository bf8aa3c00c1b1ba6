package publisher_test

import (
	"testing"

	"github.com/nats-io/nats.go"

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
