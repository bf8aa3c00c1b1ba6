package httpapi

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/integration"
	"github.com/bizcenter/bizcenter/internal/idn"
)

// scope is what a caller may see: every event, or those of some accounts
// and partners. Of the accounts, the orders (subscription events) only
// of those where the caller reads orders.
type scope struct {
	all      bool
	accounts []string
	orders   []string
	partners []string
	// movedOff holds where each of partners was last moved off an account
	// by a change of channel partner (keyed account/partner), of the
	// accounts it no longer serves.
	movedOff map[string]eventstore.Position
	// takenOver holds, keyed account/ordering partner, when one of
	// partners answered for that partner's orders of the account: from
	// the change of channel partner that handed them to it until the one
	// that moved it off the account, if any.
	takenOver map[string][]span
}

// span is from one position (excluded) to another (included); a zero
// until: to now.
type span struct{ from, until eventstore.Position }

func (s span) holds(at eventstore.Position) bool {
	return s.from.Less(at) && (s.until.IsZero() || !s.until.Less(at))
}

func (s scope) sees(e integration.Event, at eventstore.Position) bool {
	if s.all || slices.ContainsFunc(s.partners, e.Concerns) && !s.handedOver(e, at) || s.inherited(e, at) {
		return true
	}
	if e.OfSubscription() {
		return e.AccountID != "" && slices.Contains(s.orders, e.AccountID)
	}
	return e.AccountID != "" && slices.Contains(s.accounts, e.AccountID)
}

// handedOver reports whether e, at, is an event of a subscription its
// ordering partner had handed over, moved off the account, when it
// occurred: the order is the new partner's then (DOMAIN.md "Partner
// visibility"), and the API shows the previous one none of it. What
// happened to it before the move stays the previous partner's to read.
func (s scope) handedOver(e integration.Event, at eventstore.Position) bool {
	moved, ok := s.movedOff[e.AccountID+"/"+e.PartnerID]
	return ok && e.OfSubscription() && moved.Less(at)
}

// inherited reports whether e, at, is an event of a subscription that one
// of the caller's partners had taken over by a change of channel partner
// when it occurred: everything the previous partner ordered is the new
// one's (DOMAIN.md "Partner visibility"), as the API shows it, and the
// feed followed only what a partner ordered itself. What happened before
// the change stays the previous partner's; what happened after a later
// change moved the caller's partner off the account is the next one's
// (as handedOver has it of the orders it placed itself).
func (s scope) inherited(e integration.Event, at eventstore.Position) bool {
	return e.OfSubscription() && slices.ContainsFunc(s.takenOver[e.AccountID+"/"+e.PartnerID], func(sp span) bool { return sp.holds(at) })
}

// orderRoles are the customer roles that read an account's orders (its
// subscriptions' events, Event.OfSubscription), as seed 001's table of
// roles has them and the read API
// enforces (readapi/role_access.go): an Agreement Administrator or a User
// Administrator alone gets 403 there, and must not read them here.
var orderRoles = []string{"account_administrator", "account_manager", "reports_viewer", "account_viewer"}

// scopeOf reads, from the read models, the accounts the caller is an
// active user of (and of those, where they read orders) and the partners
// they act for.
func (f *feed) scopeOf(ctx context.Context, p kit.Principal) (scope, error) {
	if p.Operator {
		return scope{all: true}, nil
	}
	// As rm_users and rm_partner_users hold emails: composed, a Unicode
	// domain in xn-- form (idn.FoldEmail), as the read API compares them.
	email := idn.FoldEmail(p.Email)
	var s scope
	err := f.pool.QueryRow(ctx, `SELECT coalesce(array_agg(account_id::text), '{}'),
		  coalesce(array_agg(account_id::text) FILTER (WHERE roles && $2::text[]), '{}'),
		  coalesce((SELECT array_agg(partner_id::text) FROM rm_partner_users WHERE email_lower = $1), '{}')
		  FROM rm_users WHERE email_lower = $1 AND status = 'active'`,
		email, orderRoles).Scan(&s.accounts, &s.orders, &s.partners)
	if err != nil || len(s.partners) == 0 {
		return s, err
	}
	if s.movedOff, err = f.movedOff(ctx, s.partners); err != nil {
		return s, err
	}
	s.takenOver, err = f.takenOver(ctx, s.partners)
	return s, err
}

// movedOff reads scope.movedOff of partners.
func (f *feed) movedOff(ctx context.Context, partners []string) (map[string]eventstore.Position, error) {
	rows, err := f.pool.Query(ctx, `SELECT DISTINCT ON (m.account_id, m.from_partner_id)
		  m.account_id::text || '/' || m.from_partner_id::text, m.commit_pos, m.prepare_pos
		  FROM rm_channel_moves m
		 WHERE m.from_partner_id = ANY ($1::text[]::uuid[])
		   AND NOT EXISTS (SELECT 1 FROM rm_account_partners ap WHERE ap.account_id = m.account_id AND ap.partner_id = m.from_partner_id)
		 ORDER BY m.account_id, m.from_partner_id, m.commit_pos DESC, m.prepare_pos DESC`, partners)
	if err != nil {
		return nil, err
	}
	return positions(rows)
}

// takenOver reads scope.takenOver of partners. A change hands the new
// partner what the previous one answered for: its own orders, and those
// handed to it before. So, from each change to one of partners, the
// changes to its previous partner are walked back, each ordering partner
// reached being handed over by that first change. A partner once moved
// off an account never serves it again (account.ChangeChannelPartner),
// so each ordering partner reaches one change to a given partner, and
// UNION ends the walk even over moves made before that rule.
func (f *feed) takenOver(ctx context.Context, partners []string) (map[string][]span, error) {
	rows, err := f.pool.Query(ctx, `WITH RECURSIVE handed (account_id, partner_id, ordered_by, commit_pos, prepare_pos) AS (
		    SELECT account_id, to_partner_id, from_partner_id, commit_pos, prepare_pos
		      FROM rm_channel_moves WHERE to_partner_id = ANY ($1::text[]::uuid[])
		  UNION
		    SELECT h.account_id, h.partner_id, m.from_partner_id, h.commit_pos, h.prepare_pos
		      FROM handed h JOIN rm_channel_moves m ON m.account_id = h.account_id AND m.to_partner_id = h.ordered_by)
		SELECT h.account_id::text || '/' || h.ordered_by::text, h.commit_pos, h.prepare_pos,
		       coalesce(o.commit_pos, 0), coalesce(o.prepare_pos, 0)
		  FROM handed h
		  LEFT JOIN LATERAL (SELECT commit_pos, prepare_pos FROM rm_channel_moves
		         WHERE account_id = h.account_id AND from_partner_id = h.partner_id
		           AND (commit_pos, prepare_pos) > (h.commit_pos, h.prepare_pos)
		         ORDER BY commit_pos, prepare_pos LIMIT 1) o ON true`, partners)
	if err != nil {
		return nil, err
	}
	spans := map[string][]span{}
	var key string
	var from, until [2]int64
	_, err = pgx.ForEachRow(rows, []any{&key, &from[0], &from[1], &until[0], &until[1]}, func() error {
		spans[key] = append(spans[key], span{from: position(from), until: position(until)})
		return nil
	})
	return spans, err
}

// position is a (commit, prepare) pair read from a read model.
func position(at [2]int64) eventstore.Position {
	return eventstore.Position{Commit: uint64(at[0]), Prepare: uint64(at[1])}
}

// positions collects rows of (key, commit, prepare).
func positions(rows pgx.Rows) (map[string]eventstore.Position, error) {
	at := map[string]eventstore.Position{}
	var key string
	var pos [2]int64
	_, err := pgx.ForEachRow(rows, []any{&key, &pos[0], &pos[1]}, func() error {
		at[key] = position(pos)
		return nil
	})
	return at, err
}
