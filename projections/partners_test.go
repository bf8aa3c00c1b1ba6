package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// partnersModel is a fresh build of the Partners projector fed by hand.
type partnersModel struct {
	t      *testing.T
	pool   *pgxpool.Pool
	schema string
	seq    uint64
}

func newPartnersModel(t *testing.T) *partnersModel {
	t.Helper()
	pool := pgtest.Pool(t)
	a, _, err := Ensure(context.Background(), pool, Partners{})
	if err != nil {
		t.Fatal(err)
	}
	return &partnersModel{t: t, pool: pool, schema: a.Schema}
}

// apply projects events in one transaction, each at the next position.
func (m *partnersModel) apply(events ...event.Event) {
	m.t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if err := setSchema(ctx, tx, m.schema); err != nil {
			return err
		}
		q := &pgx.Batch{}
		for _, e := range events {
			m.seq++
			Partners{}.Apply(q, event.Envelope{
				Metadata: event.Metadata{EventID: uuid.New(), Actor: "test", OccurredAt: time.Now().UTC()},
				Position: fmt.Sprintf("%d-%d", m.seq, m.seq), Event: e})
		}
		return tx.SendBatch(ctx, q).Close()
	})
	if err != nil {
		m.t.Fatal(err)
	}
}

func (m *partnersModel) grants(acc uuid.UUID) []account.Grant {
	m.t.Helper()
	rows, _ := m.pool.Query(context.Background(), `SELECT grantee_partner_id, source_partner_id FROM rm_partner_grants
	  WHERE account_id = $1`, acc)
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[account.Grant])
	if err != nil {
		m.t.Fatal(err)
	}
	return got
}

func (m *partnersModel) channel(sub uuid.UUID) *uuid.UUID {
	m.t.Helper()
	var ch *uuid.UUID
	if err := m.pool.QueryRow(context.Background(), `SELECT channel_partner_id FROM rm_subscriptions WHERE subscription_id = $1`, sub).Scan(&ch); err != nil {
		m.t.Fatal(err)
	}
	return ch
}

func sortGrants(g []account.Grant) []account.Grant {
	slices.SortFunc(g, func(a, b account.Grant) int {
		if c := slices.Compare(a.Grantee[:], b.Grantee[:]); c != 0 {
			return c
		}
		return slices.Compare(a.Source[:], b.Source[:])
	})
	return g
}

func TestPartners_channel_change_rewrites_grants_as_MoveGrants_does(t *testing.T) {
	m := newPartnersModel(t)
	rng := rand.New(rand.NewPCG(1, 2))
	ps := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	for round := range 40 {
		acc := uuid.New()
		var want []account.Grant
		for range 6 {
			g := account.Grant{Grantee: ps[rng.IntN(len(ps))], Source: ps[rng.IntN(len(ps))]}
			if g.Grantee == g.Source || slices.Contains(want, g) {
				continue
			}
			want = append(want, g)
			m.apply(account.PartnerVisibilityGranted{AccountID: acc, GranteePartnerID: g.Grantee, SourcePartnerID: g.Source, GrantedBy: "x"})
		}
		from, to := ps[rng.IntN(len(ps))], ps[rng.IntN(len(ps))]
		if from == to {
			continue
		}
		m.apply(account.ChannelPartnerChanged{AccountID: acc, FromPartnerID: from, ToPartnerID: to, ChangedBy: "ops"})
		want = account.MoveGrants(want, from, to)
		if got := sortGrants(m.grants(acc)); !slices.Equal(got, sortGrants(want)) {
			t.Fatalf("round %d: %v -> %v: got %v, want %v", round, from, to, got, want)
		}
	}
}

func purchase(acc uuid.UUID, by *uuid.UUID) subscription.Purchased {
	now := time.Now().UTC()
	return subscription.Purchased{SubscriptionID: uuid.New(), AccountID: acc, ProductID: "p", ProductName: "P", Name: "n",
		OrderingPartnerID: by, PurchasedBy: "x", PurchasedAt: now, ExpiresAt: now.Add(time.Hour),
		Price: subscription.Price{Amount: "1234.50", Currency: "EUR"}, TotalLicenses: 1}
}

func TestPartners_purchase_landing_after_channel_changes_follows_them(t *testing.T) {
	m := newPartnersModel(t)
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	acc := uuid.New()
	m.apply(account.PartnerAssociated{AccountID: acc, PartnerID: a})
	before := purchase(acc, &a)
	m.apply(before)
	m.apply(account.ChannelPartnerChanged{AccountID: acc, FromPartnerID: a, ToPartnerID: b})
	raced := purchase(acc, &a) // decided while a served, appended after the move
	m.apply(raced)
	m.apply(account.ChannelPartnerChanged{AccountID: acc, FromPartnerID: b, ToPartnerID: c})
	late := purchase(acc, &a) // even later: a -> b -> c
	m.apply(late)
	for name, s := range map[string]subscription.Purchased{"before": before, "raced": raced, "late": late} {
		if got := m.channel(s.SubscriptionID); got == nil || *got != c {
			t.Errorf("%s: channel %v, want %v", name, got, c)
		}
	}
	// a serves the account again (the domain now refuses a partner's
	// return, but the read model copes with any log): what it orders now
	// is its own.
	m.apply(account.PartnerAssociated{AccountID: acc, PartnerID: a})
	again := purchase(acc, &a)
	self := purchase(acc, nil)
	m.apply(again, self)
	if got := m.channel(again.SubscriptionID); got == nil || *got != a {
		t.Errorf("again: channel %v, want %v", got, a)
	}
	if got := m.channel(self.SubscriptionID); got != nil {
		t.Errorf("self-service: channel %v, want none", got)
	}
	var ordering uuid.UUID
	var amount string
	if err := m.pool.QueryRow(context.Background(), `SELECT ordering_partner_id, price_amount::text FROM rm_subscriptions
	  WHERE subscription_id = $1`, before.SubscriptionID).Scan(&ordering, &amount); err != nil || ordering != a || amount != "1234.50" {
		t.Errorf("ordering %v amount %q (%v), want %v and 1234.50", ordering, amount, err, a)
	}
}

// The domain refuses moving back to a partner that moved away; should a
// log hold such a cycle anyway, resolving a purchase through it still ends.
func TestPartners_a_cycle_of_moves_ends(t *testing.T) {
	m := newPartnersModel(t)
	a, b := uuid.New(), uuid.New()
	acc := uuid.New()
	m.apply(account.PartnerAssociated{AccountID: acc, PartnerID: a},
		account.ChannelPartnerChanged{AccountID: acc, FromPartnerID: a, ToPartnerID: b},
		account.ChannelPartnerChanged{AccountID: acc, FromPartnerID: b, ToPartnerID: a},
		account.ChannelPartnerChanged{AccountID: acc, FromPartnerID: a, ToPartnerID: b})
	s := purchase(acc, &a)
	m.apply(s)
	if got := m.channel(s.SubscriptionID); got == nil || *got != b {
		t.Errorf("channel %v, want %v", got, b)
	}
}
