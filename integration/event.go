// Package integration is bizcenter's public contract with downstream
// systems: integration events, CloudEvents 1.0 in JSON, mapped from the
// domain events and versioned on their own (the version is the last part
// of the type, "bizcenter.user.invited.v1"). A domain event may change
// shape without a downstream consumer noticing: only its mapping here
// changes. Internal events (reservations, the account's administrator
// bookkeeping) are never published. docs/integration.md documents every
// type with its JSON Schema (schemas/), and the tests check each mapping
// against it.
//
// Integration events carry no personal data: no email, no name, no free
// text a person wrote. Messages handed to a broker or a webhook cannot be
// erased later, so they name people by id only; a consumer that needs an
// email reads it from the API, which answers "[erased]" once the person's
// data is erased (user.personal_data_erased tells consumers to forget
// what they kept).
package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
)

// SpecVersion is the CloudEvents version of every event.
const SpecVersion = "1.0"

// ContentType is the media type of one event in structured mode.
const ContentType = "application/cloudevents+json"

// TypePrefix starts every integration event type.
const TypePrefix = "bizcenter."

// Event is one integration event: a CloudEvent in structured JSON mode.
// The extension attributes say where it sits in bizcenter's log and which
// account or partner it concerns.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`

	// Position is the event's place in the global log ("commit-prepare"):
	// pass it as Last-Event-ID to the feed to resume after it.
	Position string `json:"position"`
	// Aggregate names what the event happened to ("accounts/<id>",
	// "users/<id>", "partners/<id>", "subscriptions/<id>"); Sequence is
	// the event's number within it, from 0. Events of one aggregate are
	// delivered in Sequence order.
	Aggregate string `json:"aggregate"`
	Sequence  string `json:"sequence"`
	// AccountID and PartnerID name the account and the partner the event
	// concerns, when it concerns one.
	AccountID string `json:"accountid,omitempty"`
	PartnerID string `json:"partnerid,omitempty"`
	// CorrelationID is shared by everything one request caused;
	// CausationID is the event that caused this one, when one did.
	CorrelationID string `json:"correlationid,omitempty"`
	CausationID   string `json:"causationid,omitempty"`
	// TraceParent is the W3C trace context of the command that appended
	// the event (the CloudEvents distributed tracing extension).
	TraceParent string `json:"traceparent,omitempty"`

	// between names the partners of an event between two of them (a
	// channel change, a visibility grant), which partnerid, one partner,
	// cannot name: the feed shows it to both (Concerns).
	between []string
}

// Concerns reports whether the event concerns a partner: it names the
// partner in partnerid, or is between it and another.
func (e Event) Concerns(partner string) bool {
	return partner != "" && (e.PartnerID == partner || slices.Contains(e.between, partner))
}

// OfSubscription reports whether the event is one of a subscription's:
// one of an account's orders.
func (e Event) OfSubscription() bool { return strings.HasPrefix(e.Aggregate, subscriptionAggregate) }

// mapped is what a mapping makes of a domain event: the integration
// type's name without prefix and version, its data, and who it concerns.
type mapped struct {
	name      string
	version   int
	aggregate string
	subject   string
	account   uuid.UUID
	partner   uuid.UUID
	between   []uuid.UUID
	data      any
}

// Map turns a domain event into its integration event. ok is false for an
// internal event, which is not published.
func Map(env event.Envelope) (Event, bool, error) {
	m, ok := mapEvent(env.Event)
	if !ok {
		return Event{}, false, nil
	}
	data, err := json.Marshal(m.data)
	if err != nil {
		return Event{}, false, err
	}
	e := Event{
		SpecVersion: SpecVersion, ID: env.EventID.String(), Type: TypeName(m.name, m.version),
		Subject: m.subject, Time: env.OccurredAt.UTC(), DataContentType: "application/json", Data: data,
		Position: env.Position, Aggregate: m.aggregate, Sequence: strconv.FormatUint(env.Revision, 10),
		CorrelationID: env.CorrelationID, CausationID: env.CausationID, TraceParent: env.TraceParent,
	}
	e.Source = "/bizcenter"
	if m.account != uuid.Nil {
		e.AccountID = m.account.String()
		e.Source = "/bizcenter/accounts/" + e.AccountID
	}
	if m.partner != uuid.Nil {
		e.PartnerID = m.partner.String()
		if m.account == uuid.Nil {
			e.Source = "/bizcenter/partners/" + e.PartnerID
		}
	}
	for _, p := range m.between {
		e.between = append(e.between, p.String())
	}
	return e, true, nil
}

// TypeName is the integration type of a name at a version.
func TypeName(name string, version int) string {
	return TypePrefix + name + ".v" + strconv.Itoa(version)
}

// JSON is the event as sent: one CloudEvent in structured mode.
func (e Event) JSON() []byte {
	b, _ := json.Marshal(e) // every field marshals
	return b
}

// FromStored maps an event as stored (its personal fields, if any, stay
// sealed: no integration event carries them). ok is false for an internal
// type, and for a type this build does not know.
func FromStored(eventType string, data, metadata []byte, stream string, revision uint64, position string) (Event, bool, error) {
	e, meta, err := event.Decode(eventType, data, metadata)
	if errors.Is(err, event.ErrUnknownType) {
		return Event{}, false, nil
	}
	if err != nil {
		return Event{}, false, fmt.Errorf("%s %s@%d: %w", eventType, stream, revision, err)
	}
	return Map(event.Envelope{Metadata: meta, Stream: stream, Revision: revision, Position: position, Event: e})
}
