package commands_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/payment"
)

// streamReads counts the reads of each stream; it appends to several
// streams at once as the store it wraps does.
type streamReads struct {
	eventstore.Store
	mu sync.Mutex
	n  map[string]int
}

func (s *streamReads) ReadStream(ctx context.Context, stream string, o eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	s.mu.Lock()
	s.n[stream]++
	s.mu.Unlock()
	return s.Store.ReadStream(ctx, stream, o)
}

func (s *streamReads) AppendStreams(ctx context.Context, appends []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	return s.Store.(eventstore.MultiStreamAppender).AppendStreams(ctx, appends)
}

func (s *streamReads) of(stream string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[stream]
}

// oneRead readies the fixture for a command on a stream that exists, and
// returns the stream and the command, run with the given deps.
type oneRead func(t *testing.T, f *fixture) (stream string, run func(ctx context.Context, d commands.Deps) error)

// A command sent with an idempotency key to a stream that exists reads it
// once: the read that looks for an earlier run is the one the command
// decides on. It used to read it twice, and the card commands, which
// look at the profile before the provider answers and decide after,
// three times. Without a key, it reads the stream as often as with one.
func TestIdempotencyKey_a_command_on_a_stream_that_exists_reads_it_once(t *testing.T) {
	newCard := func(replace bool) oneRead {
		return func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error) {
			b := f.billed(t)
			return billing.Stream(b.profile), func(ctx context.Context, d commands.Deps) error {
				var err error
				if replace {
					_, err = commands.ReplacePaymentMethodHandler(d, b.provider).Handle(ctx, commands.ReplacePaymentMethod{By: b.ann, AccountID: f.account,
						ProfileID: b.profile, PaymentMethodID: b.card, Card: card("5555 5555 5555 4444")})
				} else {
					_, err = commands.AddPaymentMethodHandler(d, b.provider).Handle(ctx, commands.AddPaymentMethod{By: b.ann, AccountID: f.account,
						ProfileID: b.profile, Card: card("5555 5555 5555 4444")})
				}
				return err
			}
		}
	}
	domains := func(remove bool) oneRead {
		return func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error) {
			change := func(ctx context.Context, d commands.Deps, remove bool) error {
				_, err := commands.ChangeDomainHandler(d).Handle(ctx, commands.ChangeDomain{By: f.admin, AccountID: f.account, Domain: "fabrikam.example", Remove: remove})
				return err
			}
			if !remove {
				return account.Stream(f.account), func(ctx context.Context, d commands.Deps) error { return change(ctx, d, false) }
			}
			if err := change(context.Background(), f.deps, false); err != nil {
				t.Fatal(err)
			}
			return reservation.DomainStream("fabrikam.example"), func(ctx context.Context, d commands.Deps) error { return change(ctx, d, true) }
		}
	}
	changePartnerUser := func(remove bool) oneRead {
		return func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error) {
			partnerID, admin := f.partner(t, "Alpha")
			bo := f.partnerUser(t, admin, partnerID, "bo@alpha.example")
			return partner.Stream(partnerID), func(ctx context.Context, d commands.Deps) error {
				_, err := commands.ChangePartnerUserHandler(d).Handle(ctx, commands.ChangePartnerUser{By: admin, PartnerID: partnerID, UserID: bo.UserID,
					Roles: []string{"admin_agent"}, Remove: remove})
				return err
			}
		}
	}
	cases := []struct {
		name  string
		setup oneRead
		reads int
	}{
		{"add a partner user", func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error) {
			partnerID, admin := f.partner(t, "Alpha")
			return partner.Stream(partnerID), func(ctx context.Context, d commands.Deps) error {
				_, err := commands.AddPartnerUserHandler(d).Handle(ctx, commands.AddPartnerUser{By: admin, PartnerID: partnerID,
					Person: partner.Person{Email: "al@alpha.example", FirstName: "A", LastName: "L", Roles: []string{"sales_agent"}}})
				return err
			}
		}, 1},
		{"change a partner user's roles", changePartnerUser(false), 1},
		{"remove a partner user", changePartnerUser(true), 1},
		{"grant partner visibility", func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error) {
			alpha, beta := f.servedBy(t, "Alpha"), f.servedBy(t, "Beta")
			return account.Stream(f.account), func(ctx context.Context, d commands.Deps) error {
				_, err := commands.PartnerVisibilityHandler(d).Handle(ctx, commands.PartnerVisibility{By: f.admin, AccountID: f.account,
					GranteePartnerID: beta, SourcePartnerID: alpha})
				return err
			}
		}, 1},
		{"resend an invitation", func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error) {
			viewer := f.pendingViewer(t, "again@fabrikam.example")
			return user.Stream(viewer), func(ctx context.Context, d commands.Deps) error {
				_, err := commands.ResendInvitationHandler(d).Handle(ctx, commands.ResendInvitation{By: f.admin, AccountID: f.account, UserID: viewer})
				return err
			}
		}, 1},
		{"add a domain", domains(false), 1},
		{"remove a domain", domains(true), 1},
		{"remove a card", func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error) {
			b := f.billed(t)
			return billing.Stream(b.profile), func(ctx context.Context, d commands.Deps) error {
				_, err := commands.RemovePaymentMethodHandler(d, b.provider).Handle(ctx, commands.RemovePaymentMethod{By: b.ann, AccountID: f.account,
					ProfileID: b.profile, PaymentMethodID: b.card})
				return err
			}
		}, 1},
		// The card commands look at the profile before the provider holds
		// the card, and decide on it read again after (the provider may
		// take its time): two reads, one of them the look for an earlier run.
		{"add a card", newCard(false), 2},
		{"replace a card", newCard(true), 2},
		{"edit a card", func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error) {
			b := f.billed(t)
			code := "456"
			return billing.Stream(b.profile), func(ctx context.Context, d commands.Deps) error {
				_, err := commands.EditPaymentMethodHandler(d, b.provider).Handle(ctx, commands.EditPaymentMethod{By: b.ann, AccountID: f.account,
					ProfileID: b.profile, PaymentMethodID: b.card, Edit: payment.Edit{SecurityCode: &code}})
				return err
			}
		}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reads := func(ctx context.Context) int {
				f := newFixture(t)
				stream, run := c.setup(t, f)
				d := f.deps
				counted := &streamReads{Store: f.deps.Store, n: map[string]int{}}
				d.Store = counted
				if err := run(ctx, d); err != nil {
					t.Fatal(err)
				}
				return counted.of(stream)
			}
			keyed := reads(commands.WithIdempotencyKey(context.Background(), "caller\x00route\x00"+uuid.NewString()))
			if keyed != c.reads {
				t.Errorf("with an idempotency key: %d reads of the stream, want %d", keyed, c.reads)
			}
			if unkeyed := reads(context.Background()); unkeyed != c.reads {
				t.Errorf("without one: %d reads of the stream, want %d", unkeyed, c.reads)
			}
		})
	}
}

// A change to the stream between the one read and the command's append
// is a conflict, as it was when the work read the stream itself: the
// command reads the stream again, and appends after the change, the
// stream's chain unbroken.
func TestIdempotencyKey_a_change_after_the_one_read_conflicts_and_is_read_again(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, f *fixture) (stream string, run func(ctx context.Context, d commands.Deps) error, change func() error)
	}{
		{"remove a card", func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error, func() error) {
			b := f.billed(t)
			return billing.Stream(b.profile), func(ctx context.Context, d commands.Deps) error {
					_, err := commands.RemovePaymentMethodHandler(d, b.provider).Handle(ctx, commands.RemovePaymentMethod{By: b.ann, AccountID: f.account,
						ProfileID: b.profile, PaymentMethodID: b.card})
					return err
				}, func() error {
					_, err := commands.AddPaymentMethodHandler(f.deps, b.provider).Handle(context.Background(), commands.AddPaymentMethod{By: b.ann,
						AccountID: f.account, ProfileID: b.profile, Card: card("5555 5555 5555 4444")})
					return err
				}
		}},
		{"resend an invitation", func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error, func() error) {
			viewer := f.pendingViewer(t, "again@fabrikam.example")
			return user.Stream(viewer), func(ctx context.Context, d commands.Deps) error {
					_, err := commands.ResendInvitationHandler(d).Handle(ctx, commands.ResendInvitation{By: f.admin, AccountID: f.account, UserID: viewer})
					return err
				}, func() error {
					_, err := commands.ChangeUserRolesHandler(f.deps).Handle(context.Background(), commands.ChangeUserRoles{By: f.admin, AccountID: f.account,
						UserID: viewer, Roles: []string{"reports_viewer"}})
					return err
				}
		}},
		{"grant partner visibility", func(t *testing.T, f *fixture) (string, func(context.Context, commands.Deps) error, func() error) {
			alpha, beta := f.servedBy(t, "Alpha"), f.servedBy(t, "Beta")
			gamma, _ := f.partner(t, "Gamma")
			return account.Stream(f.account), func(ctx context.Context, d commands.Deps) error {
					_, err := commands.PartnerVisibilityHandler(d).Handle(ctx, commands.PartnerVisibility{By: f.admin, AccountID: f.account,
						GranteePartnerID: beta, SourcePartnerID: alpha})
					return err
				}, func() error {
					_, err := commands.AssociatePartnerHandler(f.deps).Handle(context.Background(), commands.AssociatePartner{
						By: operator, AccountID: f.account, PartnerID: gamma})
					return err
				}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			stream, run, change := c.setup(t, f)
			before := len(readAll(t, f, stream))
			counted := &streamReads{Store: f.deps.Store, n: map[string]int{}}
			var changeErr error
			d := f.deps
			d.Store = &racing{Store: counted, read: stream, between: func() { changeErr = change() }}
			ctx := commands.WithIdempotencyKey(context.Background(), "caller\x00route\x00"+uuid.NewString())
			if err := run(ctx, d); err != nil {
				t.Fatalf("the command: %v", err)
			}
			if changeErr != nil {
				t.Fatalf("the change between: %v", changeErr)
			}
			if n := counted.of(stream); n != 2 {
				t.Errorf("%d reads of the stream, want 2: the one read, and one after the conflict", n)
			}
			if n := len(readAll(t, f, stream)) - before; n != 2 {
				t.Errorf("%d events appended to the stream, want the change's and the command's", n)
			}
			if broken, err := audit.Verify(context.Background(), f.deps.Store, nil); err != nil || len(broken) > 0 {
				t.Fatalf("chains: %v %v", broken, err)
			}
		})
	}
}

// readAll is a stream's events.
func readAll(t *testing.T, f *fixture, stream string) []eventstore.RecordedEvent {
	t.Helper()
	recs, err := f.deps.Store.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
