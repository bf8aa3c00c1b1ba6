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
	"github.com/bizcenter/bizcenter/personal"
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
	// PartnerSerial guards who a partner's users are and which roles
	// they hold, in every instance; nil leaves everything side by side. What changes that
	// (a user's removal or new roles, the erasure of a user's personal
	// data) runs alone for each partner (Serialize). What a user does on
	// the strength of being the partner's (an order, a subscription's new
	// total or cancellation, a license command, a benefit package bought
	// or changed, an act on a customer's purchase account manager) shares
	// the partner's turn (Share) from its check of the user, made again
	// under it, to its last append: it is recorded before a change that
	// takes the right away, or sees the change and is refused as for
	// anyone who is not the partner's user. Without it, an action checked
	// on a partner stream read a moment before a removal was appended
	// could land after it, in another stream.
	PartnerSerial SharedSerial
	// AccountSerial runs the commands that rest on which partners serve
	// an account (an order a partner places, and the change of channel
	// partner that takes the account from it), and on which of its users
	// may buy and assign (every purchase, a user's new roles or erasure,
	// and the grant that follows an invitation as Account Administrator),
	// and an account's domain changes (ChangeDomain), one at a time for
	// each account, in every instance; nil runs them side by side. An
	// order checked against the account a moment before the change was
	// appended could otherwise land after it, placed by a partner that no
	// longer served the account, or by a user who no longer held the
	// role. The license commands and a subscription's changes of an
	// account take the same turns (Licensing.Serial) and check their
	// caller under it.
	//
	// Lock order: a command that takes both takes the account's turn
	// first and the partner's inside it; no command takes an account's
	// turn while it holds a partner's, nor a turn it holds already (a
	// second share of a partner's turn would wait behind a change
	// waiting for the first).
	AccountSerial Serial
	// PackageTurns runs the changes of one benefit package one at a time
	// in this process (nil: side by side), before the partner's turn is
	// shared: they all append to the package's stream, and two dozen at
	// once (a script fetching product keys) retried past their four tries
	// on each other's appends, a third of them answered 409. Across
	// instances they still conflict and retry.
	PackageTurns Serial
}

// Serial runs f while no other command given the same id runs.
type Serial interface {
	Serialize(ctx context.Context, id uuid.UUID, f func(context.Context) error) error
}

// SharedSerial is a Serial whose id's turn may also be shared: Share runs
// f while no Serialize of the same id runs, side by side with the other
// Share calls of it.
type SharedSerial interface {
	Serial
	Share(ctx context.Context, id uuid.UUID, f func(context.Context) error) error
}

// serialized runs f under s for id, or at once when s is nil.
func serialized[T any](ctx context.Context, s Serial, id uuid.UUID, f func(context.Context) (T, error)) (T, error) {
	if s == nil {
		return f(ctx)
	}
	return turn(ctx, s.Serialize, id, f)
}

// shared runs f sharing id's turn under s, or at once when s is nil.
func shared[T any](ctx context.Context, s SharedSerial, id uuid.UUID, f func(context.Context) (T, error)) (T, error) {
	if s == nil {
		return f(ctx)
	}
	return turn(ctx, s.Share, id, f)
}

func turn[T any](ctx context.Context, take func(context.Context, uuid.UUID, func(context.Context) error) error, id uuid.UUID, f func(context.Context) (T, error)) (T, error) {
	var out T
	err := take(ctx, id, func(ctx context.Context) error {
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
	// erased first, why, and when.
	Erase(ctx context.Context, subject uuid.UUID, stream, by, reason string) (personal.Erasure, error)
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
