package commands_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/eventstore"
)

// fold reads a whole stream into agg, personal fields left sealed.
func fold(t *testing.T, f *fixture, stream string, agg interface{ Apply(event.Event) }) {
	t.Helper()
	recs, err := f.deps.Store.ReadStream(context.Background(), stream, eventstore.ReadStreamOptions{})
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatal(err)
	}
	for _, r := range recs {
		e, _, err := event.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		agg.Apply(e)
	}
}

// domainState is whether the fixture's account lists name, and who holds
// its reservation.
func (f *fixture) domainState(t *testing.T, name string) (listed bool, owner uuid.UUID) {
	t.Helper()
	var a account.Account
	fold(t, f, account.Stream(f.account), &a)
	var r reservation.Reservation
	fold(t, f, reservation.DomainStream(name), &r)
	return slices.Contains(a.Domains(), name), r.Owner()
}

// wantDomain checks whether the account lists name and holds its
// reservation.
func (f *fixture) wantDomain(t *testing.T, name string, listed bool, owner uuid.UUID) {
	t.Helper()
	gotListed, gotOwner := f.domainState(t, name)
	if gotListed != listed || gotOwner != owner {
		t.Fatalf("%s: listed %v, reserved for %s; want listed %v, reserved for %s",
			name, gotListed, f.who(gotOwner), listed, f.who(owner))
	}
}

func (f *fixture) who(owner uuid.UUID) string {
	switch owner {
	case uuid.Nil:
		return "nobody"
	case f.account:
		return "the account"
	}
	return owner.String()
}

func (f *fixture) changeDomain(d commands.Deps, name string, remove bool) (commands.DomainsChanged, error) {
	return commands.ChangeDomainHandler(d).Handle(context.Background(), commands.ChangeDomain{
		By: f.admin, AccountID: f.account, Domain: name, Remove: remove})
}

// contested runs first before every append, of one stream or several,
// that writes to stream: another writer always gets in between the
// command's read and its append. It appends to several streams at once
// when the store beneath does.
type contested struct {
	eventstore.Store
	stream string
	first  func()
}

func (c *contested) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if stream == c.stream {
		c.first()
	}
	return c.Store.Append(ctx, stream, expected, events)
}

func (c *contested) AppendStreams(ctx context.Context, appends []eventstore.StreamAppend) ([]eventstore.AppendResult, error) {
	for _, a := range appends {
		if a.Stream == c.stream {
			c.first()
		}
	}
	return c.Store.(eventstore.MultiStreamAppender).AppendStreams(ctx, appends)
}

// contestedAccount is the fixture's deps on the embedded store, with
// another domain added to the account before each append to it.
func (f *fixture) contestedAccount(t *testing.T) commands.Deps {
	n := 0
	d := f.deps
	d.Store = &contested{Store: f.deps.Store, stream: account.Stream(f.account), first: func() {
		n++
		if _, err := f.changeDomain(f.deps, fmt.Sprintf("busy%d.example", n), false); err != nil {
			t.Errorf("the other writer: %v", err)
		}
	}}
	return d
}

// On the embedded store a Remove whose account append conflicts on every
// try releases nothing: the release and the domain_removed are one
// append. It used to release first, and left the account listing a domain
// any other account could claim.
func TestChangeDomain_remove_never_releases_a_domain_the_account_still_lists(t *testing.T) {
	f := newFixture(t)
	if _, err := f.changeDomain(f.deps, "fabrikam.example", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.changeDomain(f.contestedAccount(t), "fabrikam.example", true); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("the contested Remove: %v, want a conflict", err)
	}
	f.wantDomain(t, "fabrikam.example", true, f.account)
}

// Nor does an Add claim a domain it cannot list: the claim and the
// domain_added are one append. It used to claim first, and left the
// domain held for an account that does not list it.
func TestChangeDomain_add_never_claims_a_domain_the_account_does_not_list(t *testing.T) {
	f := newFixture(t)
	if _, err := f.changeDomain(f.contestedAccount(t), "fabrikam.example", false); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("the contested Add: %v, want a conflict", err)
	}
	f.wantDomain(t, "fabrikam.example", false, uuid.Nil)
}

// oneStream is a store that appends to one stream a call, as EventStoreDB
// does: it hides the store's MultiStreamAppender.
type oneStream struct{ eventstore.Store }

// Where each stream is its own append, a Remove that stops after the
// first leaves the domain unlisted and still reserved (no other account
// can take it while the account lists it), and the same Remove sent again
// releases it. It used to release first, and a stop there left the
// account listing a domain any other account could claim.
func TestChangeDomain_remove_stopped_half_way_is_finished_by_the_same_remove(t *testing.T) {
	f := newFixture(t)
	single := f.deps
	single.Store = oneStream{f.deps.Store}
	if _, err := f.changeDomain(single, "fabrikam.example", false); err != nil {
		t.Fatal(err)
	}
	stopping := f.deps
	stopping.Store = &lossy{Store: f.deps.Store, n: 1} // hides the MultiStreamAppender too
	if _, err := f.changeDomain(stopping, "fabrikam.example", true); !errors.Is(err, errLost) {
		t.Fatalf("the Remove that stopped: %v", err)
	}
	f.wantDomain(t, "fabrikam.example", false, f.account)
	again, err := f.changeDomain(single, "fabrikam.example", true)
	if err != nil {
		t.Fatalf("the Remove sent again: %v", err)
	}
	if slices.Contains(again.Domains, "fabrikam.example") {
		t.Fatalf("the Remove sent again answered %v", again.Domains)
	}
	f.wantDomain(t, "fabrikam.example", false, uuid.Nil)
}

// An Add that stops after its claim leaves the domain held and unlisted;
// the same Add sent again lists it.
func TestChangeDomain_add_stopped_half_way_is_finished_by_the_same_add(t *testing.T) {
	f := newFixture(t)
	stopping := f.deps
	stopping.Store = &lossy{Store: f.deps.Store, n: 1}
	if _, err := f.changeDomain(stopping, "fabrikam.example", false); !errors.Is(err, errLost) {
		t.Fatalf("the Add that stopped: %v", err)
	}
	f.wantDomain(t, "fabrikam.example", false, f.account)
	single := f.deps
	single.Store = oneStream{f.deps.Store}
	if _, err := f.changeDomain(single, "fabrikam.example", false); err != nil {
		t.Fatalf("the Add sent again: %v", err)
	}
	f.wantDomain(t, "fabrikam.example", true, f.account)
}
