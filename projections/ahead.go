package projections

import (
	"bytes"
	"context"
	"slices"

	"github.com/bizcenter/bizcenter/personal"
)

// openAheadMin is how many sealed records a chunk read ahead must hold
// before the feed's decoding stage (or a build's page reader) fetches
// their keys itself. Catching up, opening sealed fields inside the
// consumer's transaction was most of its decoding (every invitation is
// sealed); live, a chunk holds an event or two, and the consumer fetches
// their keys in its first round trip anyway, so a query of the feed's own
// would only add one.
const openAheadMin = 16

// sealed reports whether the record holds a sealed personal field.
func (r *Record) sealed() bool { return bytes.Contains(r.Data, []byte(personal.Prefix)) }

// readAhead decodes the records the consumer decodes (nil: all) and
// marks the others passed over. Given keys, it opens the sealed ones
// among them: with the keys recent holds when it holds them all, else,
// when there are openAheadMin or more, with keys fetched in one query. A
// record left undecoded (too few sealed records, a key query that failed,
// no keys given) is decoded by the consumer, as always.
//
// Only projectors are given keys. For a read model, keys read before the
// consumer's transaction are sound: an erasure after the read is an event
// of its own, applied after these, that blanks what they wrote. A side
// effect cannot be blanked: the mailer opens in its own transaction, so
// that an invitation erased before it reads "[erased]" and is not sent.
func readAhead(ctx context.Context, keys personal.DB, recent *personal.Recent, records []*Record, decodes func(eventType string) bool) {
	var sealed []*Record
	for _, r := range records {
		switch {
		case decodes != nil && !decodes(r.Type):
			// Passed over, as a type this build does not know is: the
			// consumer has nothing to do with it, and should not decode
			// it, nor fetch a key to open it.
			r.ahead = &decoded{}
		case r.sealed():
			sealed = append(sealed, r)
		default:
			env, ok, err := r.decode(nil)
			r.ahead = &decoded{env: env, ok: ok, err: err}
		}
	}
	if keys == nil || len(sealed) == 0 {
		return
	}
	subjects := sealedSubjects(slices.Values(sealed))
	open, ok := recent.OpenerFor(ctx, keys, subjects)
	if !ok {
		if len(sealed) < openAheadMin {
			return
		}
		var err error
		if open, err = (personal.Keys{DB: keys}).OpenerFor(ctx, subjects); err != nil {
			return
		}
	}
	for _, r := range sealed {
		// Only what opened: an error might be the database's, not the
		// event's, and the consumer's own attempt will tell.
		if env, ok, err := r.decode(open); err == nil {
			r.ahead = &decoded{env: env, ok: ok}
		}
	}
}
