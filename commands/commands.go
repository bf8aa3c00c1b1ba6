// Package commands holds the command handlers: each loads the streams it
// needs, lets the domain decide, and appends the resulting events with the
// revision it read. Handlers write only to the event store; read models,
// emails and downstream messages follow from the store's subscription.
package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/tracing"
)

// Handler handles one kind of command.
type Handler[C, R any] interface {
	Handle(ctx context.Context, cmd C) (R, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc[C, R any] func(ctx context.Context, cmd C) (R, error)

func (f HandlerFunc[C, R]) Handle(ctx context.Context, cmd C) (R, error) { return f(ctx, cmd) }

// Logged logs each command's outcome and duration at the boundary.
func Logged[C, R any](name string, log *slog.Logger, h Handler[C, R]) Handler[C, R] {
	return HandlerFunc[C, R](func(ctx context.Context, cmd C) (R, error) {
		start := time.Now()
		ctx, span := tracing.Start(ctx, "command "+name)
		defer span.End()
		r, err := h.Handle(ctx, cmd)
		level := slog.LevelInfo
		if err != nil {
			level = slog.LevelWarn
		}
		log.Log(ctx, level, "command handled", "command", name, "duration", time.Since(start), "error", err)
		return r, err
	})
}

// Actor is who sends a command, as the token says. What an actor may do
// comes from the events (the roles its user holds in an account), never
// from the token, except for the operator flag of the service's operators.
type Actor struct {
	Subject  string
	Email    string
	Operator bool
}

// Deps are what every handler needs.
type Deps struct {
	Store eventstore.Store
	Clock clock.Clock
	// TokenKey derives invitation secrets (see domain/user/token.go).
	TokenKey []byte
	// NewID makes ids; uuid.NewV7 when nil.
	NewID func() uuid.UUID
	// Personal seals personal fields of the events saved and opens them
	// in the events loaded; nil stores them as they are.
	Personal PersonalData
	// Holders spares commands a read when finding their actor (nil: the
	// reservation is read each time).
	Holders *Holders
	// PartnerSerial runs the commands that rest on who a partner's users
	// are (their removal and role changes, and changes of the partner's
	// benefit packages) one at a time for each partner, in every
	// instance; nil runs them side by side. A benefit decided on a
	// partner stream read a moment before a removal was appended could
	// otherwise go to a user who is no longer the partner's.
	PartnerSerial Serial
	// AccountSerial runs the commands that rest on which partners serve
	// an account (an order a partner places, and the change of channel
	// partner that takes the account from it) one at a time for each
	// account, in every instance; nil runs them side by side. An order
	// checked against the account a moment before the change was
	// appended could otherwise land after it, placed by a partner that
	// no longer served the account. The license commands of an account
	// take the same turns (Licensing.Serial).
	AccountSerial Serial
}

// Serial runs f while no other command given the same id runs.
type Serial interface {
	Serialize(ctx context.Context, id uuid.UUID, f func(context.Context) error) error
}

// serialized runs f under s for id, or at once when s is nil.
func serialized[T any](ctx context.Context, s Serial, id uuid.UUID, f func(context.Context) (T, error)) (T, error) {
	if s == nil {
		return f(ctx)
	}
	var out T
	err := s.Serialize(ctx, id, func(ctx context.Context) error {
		var err error
		out, err = f(ctx)
		return err
	})
	return out, err
}

// PersonalData is the key store of personal data (personal.Keys).
type PersonalData interface {
	Sealer(ctx context.Context) event.Transform
	Opener(ctx context.Context) event.Transform
	// Erase destroys a person's key for good, noting the stream the
	// erasure's event goes to; erasing again is harmless and answers who
	// erased first, and why.
	Erase(ctx context.Context, subject uuid.UUID, stream, by, reason string) (firstBy, firstReason string, err error)
	// Recorded notes that the erasure's event is in the log.
	Recorded(ctx context.Context, subject uuid.UUID) error
}

func (d Deps) sealer(ctx context.Context) event.Transform {
	if d.Personal == nil {
		return nil
	}
	return d.Personal.Sealer(ctx)
}

func (d Deps) opener(ctx context.Context) event.Transform {
	if d.Personal == nil {
		return nil
	}
	return d.Personal.Opener(ctx)
}

func (d Deps) id() uuid.UUID {
	if d.NewID != nil {
		return d.NewID()
	}
	return uuid.Must(uuid.NewV7())
}

// now is truncated to what PostgreSQL keeps, so events and read models
// show the same instant.
func (d Deps) now() time.Time { return d.Clock.Now().UTC().Truncate(time.Microsecond) }

type correlationKey struct{}

// WithCorrelation carries a request's correlation id to the events its
// command appends.
func WithCorrelation(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

func correlation(ctx context.Context) string {
	if id, ok := ctx.Value(correlationKey{}).(string); ok && id != "" {
		return id
	}
	return uuid.NewString()
}
