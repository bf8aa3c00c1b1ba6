package projections

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// An erasure blanks, in the audit rows already written, the personal
// fields the events held, as the events read with the key gone: a field
// an event never held stays out. It used to add
// "alternateEmail":"[erased]" to a Visual Studio subscription's
// assignment, which takes none (docs/events.md): auditors read of an
// alternate email that never was.
func TestAudit_an_erasure_blanks_the_fields_the_events_held_and_adds_none(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	live, _, err := Ensure(ctx, pool, Audit{})
	if err != nil {
		t.Fatal(err)
	}
	keyGone := "audit_key_gone"
	besideBuild(t, pool, Audit{}, keyGone)

	bo, pa, pkg, vs, tech := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	at := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	history := func(email, first, last, alternate string) []event.Event {
		return []event.Event{
			partner.UserAdded{PartnerID: pa, UserID: bo, Email: email, FirstName: first, LastName: last,
				Roles: []partner.Role{"global_admin"}, AddedBy: "op"},
			// A Visual Studio subscription: no alternate email.
			benefit.UserAssigned{PackageID: pkg, PartnerID: pa, BenefitID: vs, UserID: bo, AssignedBy: "op", AssignedAt: at},
			benefit.UserAssigned{PackageID: pkg, PartnerID: pa, BenefitID: tech, UserID: bo,
				AlternateEmail: alternate, AssignedBy: "op", AssignedAt: at},
			partner.UserPersonalDataErased{PartnerID: pa, UserID: bo, ErasedBy: "op", Reason: "DSR-1", ErasedAt: at},
		}
	}
	// Live: the events as they were read before the erasure, then the
	// erasure. Key gone: the events before the erasure as they read now.
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	applyAudit(t, pool, live.Schema, ids, history("bo@alpha.example", "Bo", "Kim", "bo.support@alpha-mail.example"))
	applyAudit(t, pool, keyGone, ids, history(user.Erased, user.Erased, user.Erased, user.Erased)[:3])

	before := `SELECT x::text FROM rm_audit_events x WHERE revision < 3 ORDER BY 1`
	a, b := texts(t, pool, live.Schema, before), texts(t, pool, keyGone, before)
	if len(a) != 3 || !slices.Equal(a, b) {
		t.Errorf("after the erasure:\n%v\nthe events read with the key gone:\n%v", firstDiff(a, b), firstDiff(b, a))
	}
}

// applyAudit applies events, one batch each, as revisions of one stream.
func applyAudit(t *testing.T, pool *pgxpool.Pool, schema string, ids []uuid.UUID, events []event.Event) {
	t.Helper()
	ctx := context.Background()
	for i, e := range events {
		env := event.Envelope{
			Metadata: event.Metadata{EventID: ids[i], SchemaVersion: 1, Actor: "op", CorrelationID: "c",
				OccurredAt: time.Date(2026, 5, 2, 9, 0, i, 0, time.UTC)},
			Stream: "s", Revision: uint64(i), Position: fmt.Sprintf("%d-%d", i+1, i+1), Event: e,
		}
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := setSchema(ctx, tx, schema); err != nil {
				return err
			}
			q := &pgx.Batch{}
			Audit{}.Apply(q, env)
			return tx.SendBatch(ctx, q).Close()
		}); err != nil {
			t.Fatal(err)
		}
	}
}
