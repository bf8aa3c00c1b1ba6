package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/jackc/pgx/v5/stdlib"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/projections"
	"github.com/bizcenter/bizcenter/publisher"
)

// recordSpans makes every span of the test go to an in-memory exporter.
func recordSpans(t *testing.T) *tracetest.InMemoryExporter {
	exp := tracetest.NewInMemoryExporter()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	return exp
}

// One trace runs from the caller's request through the HTTP server, the
// command and the append to the projector, the email and the publishing of
// the event, and on to the message a consumer receives. It is served as
// the binary serves.
func TestTracing_one_trace_from_the_request_to_the_published_message(t *testing.T) {
	exp := recordSpans(t)
	h := start(t, options{asTheBinary: true})
	account, admin := h.registered()

	const clientTrace, clientSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	body, _ := json.Marshal(invite("traced@northwind.example", "account_viewer"))
	req, _ := http.NewRequest("POST", h.url+"/v1/accounts/"+account+"/users", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+clientTrace+"-"+clientSpan+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("invite: %v %v", resp, err)
	}
	var created struct{ UserID string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()

	// A publisher over the service's store, into watermill-sql.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := stdlib.OpenDBFromPool(h.svc.Pool())
	out, err := publisher.Open(publisher.Config{Transport: publisher.Postgres, Topic: "traced"}, db, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	// The subscriber makes the topic's tables before the publisher runs:
	// two CREATE TABLE IF NOT EXISTS at once can collide.
	sub, err := wsql.NewSubscriber(db, wsql.SubscriberConfig{SchemaAdapter: wsql.DefaultPostgreSQLSchema{},
		OffsetsAdapter: wsql.DefaultPostgreSQLOffsetsAdapter{}, InitializeSchema: true, PollInterval: 20 * time.Millisecond}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(ctx, "traced")
	if err != nil {
		t.Fatal(err)
	}
	engine, _ := projections.NewEngine(projections.NewFeed(h.svc.Store(), h.svc.Pool(), discardLog()), discardLog())
	engine.AddConsumer(publisher.Name, (&publisher.Publisher{Pool: h.svc.Pool(), Out: out, Topic: "traced", Log: discardLog(), Orders: integration.NewOrders(h.svc.Store(), discardLog())}).Handle)
	done := make(chan struct{})
	go func() { defer close(done); _ = engine.Run(ctx) }()
	defer func() { cancel(); <-done }()
	var traceparent string
	for traceparent == "" {
		select {
		case m := <-msgs:
			var e integration.Event
			_ = json.Unmarshal(m.Payload, &e)
			if e.Type == "bizcenter.user.invited.v1" && e.Subject == "users/"+created.UserID {
				traceparent = m.Metadata.Get(publisher.MetaTraceParent)
			}
			m.Ack()
		case <-time.After(10 * time.Second):
			t.Fatal("the invitation was not published within 10s")
		}
	}

	// The projector's and the mailer's spans end when their batches do,
	// independently of the publisher's.
	spans := map[string]tracetest.SpanStub{}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, s := range exp.GetSpans() {
			if s.SpanContext.TraceID().String() == clientTrace {
				spans[s.Name] = s
			}
		}
		if _, ok := spans["project users user.invited"]; ok {
			if _, ok := spans["mail user.invited"]; ok {
				break
			}
		}
	}
	server, command, appended, published := spans["POST /v1/accounts/"+account+"/users"], spans["command InviteUser"],
		spans["eventstore.append"], spans["publish bizcenter.user.invited.v1"]
	projected, mailed := spans["project users user.invited"], spans["mail user.invited"]
	parentOf := func(child, parent tracetest.SpanStub) bool {
		return child.Parent.SpanID() == parent.SpanContext.SpanID() && child.Parent.SpanID().IsValid()
	}
	if server.Parent.SpanID().String() != clientSpan || !parentOf(command, server) || !parentOf(appended, command) ||
		!parentOf(projected, appended) || !parentOf(mailed, appended) || !parentOf(published, appended) {
		names := []string{}
		for n := range spans {
			names = append(names, n)
		}
		t.Fatalf("spans of the client's trace %v: server parent %s, command under server %v, append under command %v, "+
			"projector under append %v, mailer under append %v, publish under append %v",
			names, server.Parent.SpanID(), parentOf(command, server), parentOf(appended, command),
			parentOf(projected, appended), parentOf(mailed, appended), parentOf(published, appended))
	}
	want := "00-" + clientTrace + "-" + published.SpanContext.SpanID().String() + "-01"
	if traceparent != want {
		t.Fatalf("the message's traceparent is %q, want the publishing span's %q", traceparent, want)
	}
}

// An event parked as a dead letter, and one waiting behind it, end their
// spans as failed although their batch committed.
func TestTracing_a_parked_event_and_its_follower_have_failed_spans(t *testing.T) {
	exp := recordSpans(t)
	h := start(t, options{})
	accountID, admin := h.registered()
	h.poison("Poison")
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, poisoned)
	tok := h.mailTokens("poison@northwind.example", 1)[0]
	h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})

	failedWith := func(name, message string) bool {
		for _, s := range exp.GetSpans() {
			if s.Name != name || s.Status.Code != codes.Error {
				continue
			}
			for _, e := range s.Events {
				for _, a := range e.Attributes {
					if a.Key == "exception.message" && strings.Contains(a.Value.AsString(), message) {
						return true
					}
				}
			}
		}
		return false
	}
	waitFor(t, "failed spans for the parked event and its follower", 10*time.Second, func() bool {
		return failedWith("project users user.invited", "parked as a dead letter") &&
			failedWith("project users user.invitation_accepted", "waiting behind a dead letter")
	})
}
