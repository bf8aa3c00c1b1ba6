package mailer

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/eventstore"
)

// announceGrants claims one email to each global admin and admin agent
// the grantee has when the event is applied, for each partner whose
// orders it may now see: the source of a grant, or (previous set) the
// sources of the grants it took over from the partner it replaced. A user
// whose key is erased is left out, also before the erasure's event comes
// (the mailer's copy of their address goes only then). The event's own
// row in mail_sent marks it as handled, so a replay mails
// nobody, not even a user added since; each email's row (recipientKey)
// holds its outcome. A grant revoked before the mailer got to it is still
// announced: it happened.
func (c *Consumer) announceGrants(ctx context.Context, tx pgx.Tx, env event.Envelope, accountID, grantee, previous uuid.UUID, sources ...uuid.UUID) ([]pending, error) {
	rows, _ := tx.Query(ctx, `
		SELECT user_id, email, first_name, last_name FROM mail_partner_users u
		WHERE partner_id = $1 AND roles && $2::text[]
		  AND NOT EXISTS (SELECT FROM personal_keys k WHERE k.subject_id = u.user_id AND k.erased_at IS NOT NULL)
		ORDER BY user_id`, grantee, grantRecipientRoles)
	users, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (partnerUser, error) {
		var u partnerUser
		err := row.Scan(&u.id, &u.email, &u.firstName, &u.lastName)
		return u, err
	})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, c.skip(ctx, tx, env, "skipped: the grantee has no global admin or admin agent")
	}
	outcome := fmt.Sprintf("one email a recipient: %d", len(users))
	if previous != uuid.Nil {
		outcome = fmt.Sprintf("one email a recipient and inherited grant: %d", len(users)*len(sources))
	}
	claimed, err := claim(ctx, tx, env.EventID, outcome)
	if err != nil || !claimed {
		return nil, err
	}
	var out []pending
	for _, source := range sources {
		v := VisibilityGranted{
			AccountID: accountID, PartnerID: grantee, SourcePartnerID: source, PreviousPartnerID: previous,
			ViewURL: SubscriptionsURL(c.BaseURL, grantee, accountID), GrantedAt: env.OccurredAt,
		}
		if err := tx.QueryRow(ctx, `
			SELECT coalesce((SELECT name FROM mail_account_names WHERE account_id = $1), ''),
			       coalesce((SELECT name FROM mail_partner_names WHERE partner_id = $2), ''),
			       coalesce((SELECT name FROM mail_partner_names WHERE partner_id = $3), ''),
			       coalesce((SELECT name FROM mail_partner_names WHERE partner_id = $4), '')`,
			accountID, grantee, source, previous).Scan(&v.AccountName, &v.PartnerName, &v.SourcePartnerName, &v.PreviousPartnerName); err != nil {
			return nil, err
		}
		mailed := env.EventID
		if previous != uuid.Nil {
			mailed = uuid.NewSHA1(env.EventID, source[:])
		}
		for _, u := range users {
			key := recipientKey(mailed, u.id)
			ok, err := claim(ctx, tx, key, "pending")
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, pending{env: env, key: key, write: func() (Message, error) { return visibilityMessage(env, key, u, v) }})
			}
		}
	}
	return out, nil
}

// channelChanged announces to the partner that took the account over
// the grants it inherits (account.MoveGrants): the customer let the
// former partner see what another partner ordered, and now the new one
// sees it. A grant the new partner had already is not announced again.
// The grants come from the account's stream as it stood before the
// change; the mailer keeps no copy of them.
func (c *Consumer) channelChanged(ctx context.Context, tx pgx.Tx, env event.Envelope, e account.ChannelPartnerChanged) ([]pending, error) {
	before, err := c.grantsBefore(ctx, env)
	if err != nil {
		return nil, err
	}
	var sources []uuid.UUID
	for _, g := range account.MoveGrants(before, e.FromPartnerID, e.ToPartnerID) {
		if g.Grantee == e.ToPartnerID && !slices.Contains(before, g) {
			sources = append(sources, g.Source)
		}
	}
	if len(sources) == 0 {
		return nil, nil
	}
	return c.announceGrants(ctx, tx, env, e.AccountID, e.ToPartnerID, e.FromPartnerID, sources...)
}

// grantsBefore folds the account's stream up to the event env (not
// included), its personal fields left sealed (grants hold none).
func (c *Consumer) grantsBefore(ctx context.Context, env event.Envelope) ([]account.Grant, error) {
	var a account.Account
	for from := uint64(0); from < env.Revision; {
		page, err := c.Store.ReadStream(ctx, env.Stream, eventstore.ReadStreamOptions{From: from, Limit: int(min(env.Revision-from, 500))})
		if err != nil {
			return nil, fmt.Errorf("grants of %s before @%d: %w", env.Stream, env.Revision, err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			from = r.Revision + 1
			ev, _, err := event.DecodeWith(r.Type, r.Data, r.Metadata, nil)
			if errors.Is(err, event.ErrUnknownType) {
				// Of a newer release: the feed passes it over too, and
				// nothing this build knows of grants comes from it.
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("grants of %s: @%d: %w", env.Stream, r.Revision, err)
			}
			a.Apply(ev)
		}
	}
	return a.Grants(), nil
}

// visibilityMessage writes one recipient's visibility-granted email.
func visibilityMessage(env event.Envelope, key uuid.UUID, u partnerUser, v VisibilityGranted) (Message, error) {
	v.FirstName, v.LastName = u.firstName, u.lastName
	m, err := RenderVisibilityGranted(partnerLanguage, v)
	if err != nil {
		return Message{}, err
	}
	m.To = (&mail.Address{Name: PersonName(partnerLanguage, u.firstName, u.lastName), Address: u.email}).String()
	m.ID = "visibility-granted." + key.String()
	m.Headers["X-Bizcenter-Event-Id"] = env.EventID.String()
	return m, nil
}
