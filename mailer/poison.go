package mailer

import (
	"errors"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bizcenter/bizcenter/projections"
)

// The mailer has no dead letters: what it does for an event is record a
// row or two and mail someone at most once, and nothing of its later
// events depends on an event it could not record but that person's mail.
// So an event it cannot record for a reason of its own, and not of the
// database's health, is given up after projections.MaxAttempts tries:
// its row in mail_sent says "failed: not recorded: …" and the mail of the
// other events goes on. Held up instead, all mail stopped until an
// operator moved the checkpoint by hand.

// failures counts the tries of events that failed for a reason of their
// own, across redeliveries of their batch.
type failures struct {
	mu   sync.Mutex
	errs map[uuid.UUID]failure
}

type failure struct {
	tries int
	last  error
}

// note counts err against the event when it is the event's own fault
// (see ownFault), and returns err.
func (f *failures) note(eventID uuid.UUID, err error) error {
	if !ownFault(err) {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errs == nil {
		f.errs = map[uuid.UUID]failure{}
	}
	n := f.errs[eventID]
	f.errs[eventID] = failure{tries: n.tries + 1, last: err}
	return err
}

// givenUp is the last error of an event tried often enough, or nil. The
// event is forgotten: it is given up once.
func (f *failures) givenUp(eventID uuid.UUID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.errs[eventID]
	if !ok || n.tries < projections.MaxAttempts {
		return nil
	}
	delete(f.errs, eventID)
	return n.last
}

// errUndecodable marks an event the mailer cannot read.
var errUndecodable = errors.New("undecodable event")

// ownFault reports an error the event would get on every try: it cannot
// be read, or PostgreSQL refused its values (SQLSTATE class 22, data
// exception, such as a NUL in a text; or 23, a constraint). A lost
// connection, a timeout or a conflict with another transaction is the
// database's, and is retried for as long as it lasts.
func ownFault(err error) bool {
	if errors.Is(err, errUndecodable) {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}
