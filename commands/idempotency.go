package commands

import (
	"context"
	"strconv"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

// idNamespace is the UUIDv5 namespace of ids derived from idempotency keys.
var idNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://bizcenter.dev/idempotency"))

type idempotencyKey struct{}

// WithIdempotencyKey makes every id the command makes (the new entities'
// ids and the event ids) derive from the key, which the caller scopes (by
// principal, route and request, so that another request with the same
// header makes ids of its own): run again with the same key, the same
// command makes the same ids in the same places. A retry whose first run appended
// and then lost its answer is recognised by the store (same event ids at
// the same place) and by the handlers (their own earlier work), and
// answers as the first run did.
//
// A handler looks for that earlier work before it checks the caller's
// rights (earlierRun, or keep when the work then decides on the same
// read), and answers as the first run did when it finds it, whatever
// changed since, the caller's roles included: the rights
// guard doing the work, which was done while the caller held them, not
// reporting it; a kept answer replays the same way (httpapi's
// IdempotencyKeys). That tells nobody anything: only the same scoped key,
// the same caller sending the same request, finds the earlier run's ids.
// What it looks for is the event the first run's answer names (its
// position, the entity it made); having found it, it finishes only what
// must follow that event (an Account Administrator's grant, the account's
// record of the manager's new email), as the first run would have.
// Anything else is work, checked as a new run's: an earlier run that
// stopped before that event, or appended nothing, left no answer to
// give. Two kinds of command keep their check first:
// the operators' (their right is the token's operator claim, which the
// route checks before any replay, a kept answer's too), and the license
// commands (a run again decides again, and may give what the first run
// refused: see writes.remember).
func WithIdempotencyKey(ctx context.Context, scopedKey string) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, scopedKey)
}

// unkeyed is ctx without its idempotency key, for an append that is not
// the command's own work (a fence): its event gets a random id, and a run
// again with the key does not take it for something it did.
func unkeyed(ctx context.Context) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, "")
}

// earlierRun reads a stream for what an earlier run of this command (same
// idempotency key) appended to it (mine), before the caller's rights are
// checked (see WithIdempotencyKey); without a key it reads nothing. The
// events stay sealed: no answer holds personal data. It is for a stream
// the work does not decide on (a new entity's, whose id derives from the
// key, appended to as a new stream); for one it does, keep.
func (d Deps) earlierRun(ctx context.Context, stream string) (loaded, error) {
	if _, keyed := keyedID(ctx, "earlier run"); !keyed {
		return noStream, nil
	}
	return loadWith(ctx, d, stream, unfolded{}, nil)
}

// earlierAnswer reports whether an earlier run of this command appended
// to stream, and the position of its last event there: the answer of a
// command that answers with that position.
func (d Deps) earlierAnswer(ctx context.Context, stream string) (eventstore.Position, bool, error) {
	l, err := d.earlierRun(ctx, stream)
	if err != nil || l.mine == nil {
		return eventstore.Position{}, false, err
	}
	return l.answered(), true, nil
}

// folded is a pointer to an aggregate A: what keep and loadKept fold a
// new A through.
type folded[A any] interface {
	*A
	aggregate
}

// kept is a stream read before the caller's rights were checked (keep),
// for the work's first try.
type kept[A any] struct {
	state *A // nil once handed over (loadKept)
	at    loaded
}

// keep is earlierRun for a stream the work then decides on: with an
// idempotency key, it folds the stream into an A, personal fields opened
// as the work needs them, and that one read serves both the look for an
// earlier run (read) and the work's first try (loadKept), which appends
// expecting the revision read here: a change since is a conflict, and
// the try after it reads the stream again. Without a key it reads
// nothing (nil), and the work reads as it always has, after the rights
// check.
func keep[A any, P folded[A]](ctx context.Context, d Deps, stream string) (*kept[A], error) {
	if _, keyed := keyedID(ctx, "earlier run"); !keyed {
		return nil, nil
	}
	var a A
	l, err := load(ctx, d, stream, P(&a))
	if err != nil {
		return nil, err
	}
	return &kept[A]{state: &a, at: l}, nil
}

// read is where k was read (noStream when nothing was: no earlier run to
// find there).
func (k *kept[A]) read() loaded {
	if k == nil {
		return noStream
	}
	return k.at
}

// loadKept folds stream into a new A, except the first time after keep
// read it: that read is handed over instead, once.
func loadKept[A any, P folded[A]](ctx context.Context, d Deps, k *kept[A], stream string) (*A, loaded, error) {
	if k != nil && k.state != nil {
		a := k.state
		k.state = nil
		return a, k.at, nil
	}
	var a A
	l, err := load(ctx, d, stream, P(&a))
	return &a, l, err
}

// unfolded is an aggregate that keeps no state: a read for loaded alone.
type unfolded struct{}

func (unfolded) Apply(event.Event) {}

// keyedID derives the id labelled label from the context's idempotency
// key, if there is one.
func keyedID(ctx context.Context, label string) (uuid.UUID, bool) {
	k, ok := ctx.Value(idempotencyKey{}).(string)
	if !ok || k == "" {
		return uuid.Nil, false
	}
	return uuid.NewSHA1(idNamespace, []byte(k+"\x00"+label)), true
}

// newID makes the id of a new entity (label names it within the command):
// derived from the idempotency key, else a fresh one.
func (d Deps) newID(ctx context.Context, label string) uuid.UUID {
	if id, ok := keyedID(ctx, label); ok {
		return id
	}
	return d.id()
}

// eventID is the id of the event at a place in a stream: derived from the
// idempotency key, so a re-run appending at the same place appends the
// same ids; else random.
func eventID(ctx context.Context, stream string, revision uint64) uuid.UUID {
	if id, ok := keyedID(ctx, eventLabel(stream, revision)); ok {
		return id
	}
	return uuid.New()
}

// isMine reports whether a stored event was appended by an earlier run of
// this command (same idempotency key): its id is the one the key gives its
// place.
func isMine(ctx context.Context, rec eventstore.RecordedEvent) bool {
	id, ok := keyedID(ctx, eventLabel(rec.Stream, rec.Revision))
	return ok && id == rec.ID
}

func eventLabel(stream string, revision uint64) string {
	return "event\x00" + stream + "\x00" + strconv.FormatUint(revision, 10)
}

// earlier is what an earlier run of the same command appended to a stream.
type earlier struct {
	// position of the last of those events: what that run answered.
	position eventstore.Position
	events   []event.Event
}

// mine returns the last event of type E an earlier run of this command
// appended to the stream l was loaded from.
func mine[E event.Event](l loaded) (E, bool) {
	var zero E
	if l.mine == nil {
		return zero, false
	}
	for i := len(l.mine.events) - 1; i >= 0; i-- {
		if e, ok := l.mine.events[i].(E); ok {
			return e, true
		}
	}
	return zero, false
}
