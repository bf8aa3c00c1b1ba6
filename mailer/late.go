package mailer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/projections"
)

// lateAfter is how long after its event an invitation email is late: the
// mailer was stopped, or is catching up after an outage of the relay or
// of its own, or the sends before it in its batch hung. Live, an email
// goes out milliseconds after its event, and reading the user's stream
// for each would only add a read per invitation; late, the history may
// already hold what makes it stale. A minute was longer than the mailer's
// own delays (a send's tries of up to 30 s each, the pauses of a wait
// for the relay, a failover): what it decided after them was live, and
// an invitation resent meanwhile mailed beside its resend.
const lateAfter = 2 * time.Second

// supersedingTypes are the user events after which an earlier invitation
// email is stale: its link no longer accepts (a resent invitation has a
// new token, an accepted one is used), or its person or address is no
// longer the one it names.
var supersedingTypes = map[string]bool{
	user.InvitationResent{}.EventType():   true,
	user.InvitationAccepted{}.EventType(): true,
	user.EmailChanged{}.EventType():       true,
	user.PersonalDataErased{}.EventType(): true,
}

// supersededBy names the first event of the invitation's stream, after
// it, that makes its email stale (type@revision), or "" when none has
// come. A mailer catching up would otherwise mail an invitee every
// invitation of an outage, each link but the last refused, or mail a
// user who had accepted since. Only types are compared: nothing is
// decoded or opened.
func (c *Consumer) supersededBy(ctx context.Context, env event.Envelope) (string, error) {
	for from := env.Revision + 1; ; {
		page, err := c.Store.ReadStream(ctx, env.Stream, eventstore.ReadStreamOptions{From: from, Limit: 100})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("events after %s@%d: %w", env.Stream, env.Revision, err)
		}
		for _, r := range page {
			if supersedingTypes[r.Type] {
				return fmt.Sprintf("%s@%d", r.Type, r.Revision), nil
			}
			from = r.Revision + 1
		}
		if len(page) < 100 {
			return "", nil
		}
	}
}

// errSuperseded ends the tries of an invitation email made stale after it
// was decided (supersededSince); its text follows "skipped: " in mail_sent.
var errSuperseded = errors.New("superseded by")

// supersededSince is supersededBy for an invitation email about to be
// tried lateAfter or more after it was decided: the sends before it in
// its commit hung, or its own tries failed, and the invitation may have
// been resent or accepted meanwhile. Tried anyway, one in a soak went out
// 49 s late, on its third try, its link refused. A look that fails
// sends the email, as before.
func (c *Consumer) supersededSince(ctx context.Context, p pending) string {
	if p.decided.IsZero() || c.now().Sub(p.decided) < lateAfter {
		return ""
	}
	by, err := c.supersededBy(ctx, p.env)
	if err != nil {
		c.logger(p.env).Warn("could not look whether the invitation was superseded; sending it", "error", err)
	}
	return by
}

// invitationTypes are the events that mail an invitation.
var invitationTypes = map[string]bool{
	user.Invited{}.EventType():          true,
	user.InvitationResent{}.EventType(): true,
}

// staleInBatch names, for each invitation among recs, the first later
// record of its stream among them that makes its email stale
// (type@revision), as supersededBy does from the store. Two resends of an
// invitation a moment apart (two administrators at once) come in one live
// batch, neither late: the first was mailed too, its link refused.
func staleInBatch(recs []projections.Record) map[uuid.UUID]string {
	var stale map[uuid.UUID]string
	var next map[string]string // stream -> the earliest superseding record after this one
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if by, ok := next[r.Stream]; ok && invitationTypes[r.Type] {
			if stale == nil {
				stale = map[uuid.UUID]string{}
			}
			stale[r.ID] = by
		}
		if supersedingTypes[r.Type] {
			if next == nil {
				next = map[string]string{}
			}
			next[r.Stream] = fmt.Sprintf("%s@%d", r.Type, r.Revision)
		}
	}
	return stale
}
