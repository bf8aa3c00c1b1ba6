package publisher_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/pkg/amqp"
	wnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/publisher"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// brokerURL is a broker the test harness started (scripts/test.sh via
// scripts/brokers.sh). Without it the test fails: a transport is never
// silently left untested.
func brokerURL(t testing.TB, transport string) string {
	t.Helper()
	env := map[string]string{publisher.NATS: "TEST_NATS_URL", publisher.AMQP: "TEST_AMQP_URL"}[transport]
	if env == "" {
		return ""
	}
	u := os.Getenv(env)
	if u == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts NATS and RabbitMQ (scripts/brokers.sh)", env)
	}
	return u
}

// sent is an event the history holds that must be published.
type sent struct {
	id        string
	aggregate string
	sequence  uint64
	position  eventstore.Position
}

// appendHistory appends, for each of n users, an invitation and k-1 role
// changes (one append per user), plus an internal reservation event that
// must not be published, from several writers. It returns the events that
// must arrive, by id.
func appendHistory(t testing.TB, store eventstore.Store, n, k int) map[string]sent {
	t.Helper()
	account := uuid.New()
	var mu sync.Mutex
	want := map[string]sent{}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				got, err := appendUser(store, account, k)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, s := range got {
					want[s.id] = s
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Error(err)
	}
	return want
}

func appendUser(store eventstore.Store, account uuid.UUID, k int) ([]sent, error) {
	ctx := context.Background()
	id := uuid.New()
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	evs := []event.Event{user.Invited{UserID: id, AccountID: account, Email: id.String() + "@p.example", FirstName: "P", LastName: "Q",
		Language: "en", Country: "US", Roles: []user.Role{user.AccountViewer}, InvitationID: uuid.New(), TokenHash: "h", InvitedBy: "t",
		SentAt: at, ExpiresAt: at.Add(user.InvitationValidity)}}
	for j := 1; j < k; j++ {
		role := []user.Role{user.AccountViewer, user.ReportsViewer}[j%2]
		evs = append(evs, user.RolesChanged{UserID: id, AccountID: account, Roles: []user.Role{role}, Added: []user.Role{role}, ChangedBy: "t", ChangedAt: at})
	}
	var data []eventstore.EventData
	for _, e := range evs {
		data = append(data, encode(e))
	}
	if _, err := store.Append(ctx, "user-"+id.String(), eventstore.NoStream(), data); err != nil {
		return nil, err
	}
	if _, err := store.Append(ctx, "reservation-test-"+id.String(), eventstore.NoStream(),
		[]eventstore.EventData{encode(reservation.Claimed{Kind: "test", OwnerID: id, ClaimedAt: at})}); err != nil {
		return nil, err
	}
	out := make([]sent, len(data))
	for j, d := range data {
		out[j] = sent{id: d.ID.String(), aggregate: "users/" + id.String(), sequence: uint64(j)}
	}
	return out, nil
}

// withPositions reads where the log put each wanted event, waiting,
// bounded, for events still below the store's safe horizon (other tests'
// transactions on the cluster hold it back). It returns the last
// position read.
func withPositions(t testing.TB, store eventstore.Store, want map[string]sent) eventstore.Position {
	t.Helper()
	var after eventstore.Position
	missing := len(want)
	deadline := time.Now().Add(30 * time.Second)
	for missing > 0 {
		page, err := store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d appended events not readable after 30s", missing)
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for _, r := range page {
			if w, ok := want[r.ID.String()]; ok {
				w.position = r.Position
				want[r.ID.String()] = w
				missing--
			}
		}
		after = page[len(page)-1].Position
	}
	return after
}

func encode(e event.Event) eventstore.EventData {
	id := uuid.New()
	data, meta, err := event.Encode(e, event.Metadata{EventID: id, Actor: "test", CorrelationID: "corr-" + id.String()[:8], OccurredAt: time.Now().UTC()})
	if err != nil {
		panic(err)
	}
	return eventstore.EventData{ID: id, Type: e.EventType(), Data: data, Metadata: meta}
}

// subscribe reads a topic from its first message on, acking each, and
// hands over every message (duplicates included) in the order received.
func subscribe(t testing.TB, transport, url string, db *sql.DB, topic string) <-chan *message.Message {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	logger := watermill.NewSlogLogger(quiet())
	var in <-chan *message.Message
	var err error
	switch transport {
	case publisher.NATS:
		return subscribeNATS(t, ctx, url, topic)
	case publisher.AMQP:
		var sub *wamqp.Subscriber
		if sub, err = wamqp.NewSubscriber(publisher.AMQPConfig(url), logger); err == nil {
			t.Cleanup(func() { _ = sub.Close() })
			in, err = sub.Subscribe(ctx, topic)
		}
	case publisher.Postgres:
		var sub *wsql.Subscriber
		if sub, err = wsql.NewSubscriber(db, wsql.SubscriberConfig{
			SchemaAdapter: wsql.DefaultPostgreSQLSchema{}, OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{},
			InitializeSchema: true, ConsumerGroup: "test", PollInterval: 50 * time.Millisecond,
		}, logger); err == nil {
			t.Cleanup(func() { _ = sub.Close() })
			in, err = sub.Subscribe(ctx, topic)
		}
	}
	if err != nil {
		t.Fatalf("subscribe %s %s: %v", transport, topic, err)
	}
	out := make(chan *message.Message, 10000)
	go func() {
		for m := range in {
			out <- m
			m.Ack()
		}
	}()
	return out
}

// subscribeNATS reads the JetStream stream with an ordered consumer from
// its first message.
func subscribeNATS(t testing.TB, ctx context.Context, url, topic string) <-chan *message.Message {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	// The publisher creates the stream on its first publish; create it here
	// first, as it would, so the consumer can start before.
	if _, err := js.StreamInfo(topic); err != nil {
		if _, err := js.AddStream(&nats.StreamConfig{Name: topic, Subjects: []string{topic}}); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := js.SubscribeSync(topic, nats.DeliverAll(), nats.OrderedConsumer())
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan *message.Message, 10000)
	go func() {
		var um wnats.NATSMarshaler
		for ctx.Err() == nil {
			nm, err := sub.NextMsg(200 * time.Millisecond)
			if err != nil {
				continue
			}
			if m, err := um.Unmarshal(nm); err == nil {
				out <- m
			}
		}
	}()
	return out
}

// collect receives, after what arrived before, until every wanted id
// arrived, then for settle more, and returns all that arrived.
func collect(t testing.TB, in <-chan *message.Message, before []*message.Message, want map[string]sent, within, settle time.Duration) []*message.Message {
	t.Helper()
	got := before
	seen := map[string]bool{}
	for _, m := range before {
		seen[m.UUID] = true
	}
	deadline := time.After(within)
	for len(seen) < len(want) {
		select {
		case m := <-in:
			got = append(got, m)
			seen[m.UUID] = true
		case <-deadline:
			t.Fatalf("%d of %d events arrived within %s", len(seen), len(want), within)
		}
	}
	quietFor := time.After(settle)
	for {
		select {
		case m := <-in:
			got = append(got, m)
		case <-quietFor:
			return got
		}
	}
}

// checkDelivery asserts what every transport promises: every event
// arrives, each message is a valid integration event whose id is the
// event id, nothing unknown arrives, and dropping repeated ids leaves each
// aggregate's events in sequence order. It returns how often each id came.
func checkDelivery(t testing.TB, got []*message.Message, want map[string]sent) map[string]int {
	t.Helper()
	counts := map[string]int{}
	last := map[string]int{}
	for _, m := range got {
		var e integration.Event
		if err := json.Unmarshal(m.Payload, &e); err != nil {
			t.Fatalf("message %s: %v", m.UUID, err)
		}
		if err := integration.Validate(m.Payload); err != nil {
			t.Fatalf("message %s does not match its schema: %v", m.UUID, err)
		}
		w, ok := want[e.ID]
		if !ok || m.UUID != e.ID || m.Metadata.Get(publisher.MetaID) != e.ID || m.Metadata.Get(publisher.MetaType) != e.Type {
			t.Fatalf("message %s (event %s, %s) was not published by this history or its ids disagree", m.UUID, e.ID, e.Type)
		}
		if e.Aggregate != w.aggregate || e.Sequence != strconv.FormatUint(w.sequence, 10) || e.Position != w.position.String() {
			t.Fatalf("event %s: aggregate %s sequence %s position %s, want %s %d %s", e.ID, e.Aggregate, e.Sequence, e.Position, w.aggregate, w.sequence, w.position)
		}
		counts[e.ID]++
		if counts[e.ID] > 1 {
			continue
		}
		seq := int(w.sequence)
		if prev, ok := last[w.aggregate]; ok && seq != prev+1 || !ok && seq != 0 {
			t.Fatalf("%s: sequence %d arrived after %d", w.aggregate, seq, last[w.aggregate])
		}
		last[w.aggregate] = seq
	}
	for id := range want {
		if counts[id] == 0 {
			t.Fatalf("event %s never arrived", id)
		}
	}
	return counts
}
