package mailer

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bizcenter/bizcenter/projections"
)

// Only what the event would get on every try counts towards giving it
// up: a database that is down, slow or busy with another transaction
// must never cost anyone their mail.
func TestFailures_give_up_an_event_only_for_its_own_faults(t *testing.T) {
	own := []error{
		fmt.Errorf("mailer: %w: %w", errUndecodable, errors.New("bad json")),
		fmt.Errorf("insert: %w", &pgconn.PgError{Code: "22021"}), // NUL in text
		&pgconn.PgError{Code: "23502"},                           // not null
	}
	theDatabases := []error{
		&pgconn.PgError{Code: "40001"}, // serialization failure
		&pgconn.PgError{Code: "40P01"}, // deadlock
		&pgconn.PgError{Code: "57014"}, // statement timeout
		&pgconn.PgError{Code: "08006"}, // connection failure
		context.DeadlineExceeded,
		errors.New("conn closed"),
	}
	var f failures
	for _, err := range theDatabases {
		id := uuid.New()
		for range projections.MaxAttempts + 2 {
			f.note(id, err)
		}
		if got := f.givenUp(id); got != nil {
			t.Errorf("%v: given up", err)
		}
	}
	for _, err := range own {
		id := uuid.New()
		for try := 1; try <= projections.MaxAttempts; try++ {
			if got := f.givenUp(id); got != nil {
				t.Errorf("%v: given up before try %d", err, try)
			}
			f.note(id, err)
		}
		if got := f.givenUp(id); !errors.Is(got, err) {
			t.Errorf("%v: given up with %v", err, got)
		}
		if got := f.givenUp(id); got != nil {
			t.Errorf("%v: given up twice", err)
		}
	}
}
