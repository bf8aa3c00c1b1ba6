package projections

import (
	_ "embed"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// Audit builds the auditors' read model (audit.sql): one row an event,
// with the account it concerns when its payload names one.
type Audit struct{}

//go:embed audit.sql
var auditSchema string

// Name is permanent.
func (Audit) Name() string { return "audit" }

// Version changes when the table or what Apply writes change.
func (Audit) Version() int { return 3 } // 3: an erasure blanks only the personal fields a row holds

// Schema is the DDL of the table.
func (Audit) Schema() string { return auditSchema }

// Tables are what readers read.
func (Audit) Tables() []string { return []string{"rm_audit_events"} }

// Linger implements Lingering: the audit log writes a row for every
// event, and its readers wait for a position with ?after.
func (Audit) Linger() time.Duration { return 20 * time.Millisecond }

// Apply implements Projector.
func (Audit) Apply(q *pgx.Batch, env event.Envelope) {
	data, _ := json.Marshal(env.Event)
	var ids struct {
		AccountID *string `json:"accountId"`
	}
	_ = json.Unmarshal(data, &ids)
	pos, _ := eventstore.ParsePosition(env.Position)
	q.Queue(`
		INSERT INTO rm_audit_events (commit_pos, prepare_pos, event_id, stream, revision, event_type, schema_version,
		    account_id, actor, correlation_id, causation_id, occurred_at, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT DO NOTHING`,
		int64(pos.Commit), int64(pos.Prepare), env.EventID, env.Stream, int64(env.Revision), env.Event.EventType(),
		env.SchemaVersion, ids.AccountID, env.Actor, env.CorrelationID, env.CausationID, env.OccurredAt, data)
	switch e := env.Event.(type) {
	case user.PersonalDataErased:
		eraseAudited(q, e.UserID.String())
	case partner.UserPersonalDataErased:
		eraseAudited(q, e.UserID.String())
	}
}

// eraseAudited blanks, in the rows already written, every personal field
// of the person: what the events read now that their key is gone. Only
// the fields a row holds, not empty, are blanked (sealing passes empty
// ones by): a Visual Studio subscription's assignment has no
// alternateEmail, and must not gain one that reads [erased].
func eraseAudited(q *pgx.Batch, subject string) {
	for _, t := range event.Types() {
		pf, ok := event.Personal(t)
		if !ok {
			continue
		}
		q.Queue(`
			UPDATE rm_audit_events SET data = data || (
			    SELECT coalesce(jsonb_object_agg(f, $1::text), '{}') FROM unnest($2::text[]) AS f
			     WHERE data->>f <> '')
			 WHERE event_type = $3 AND data->>$4 = $5`, user.Erased, pf.Fields, t, pf.Subject, subject)
	}
}
