package commands_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
)

// racing runs between, once: right after the first read of stream read
// returned (the command has just checked its caller there) or, with read
// "", as the command first appends.
type racing struct {
	eventstore.Store
	read    string
	between func()
	once    sync.Once
}

func (s *racing) ReadStream(ctx context.Context, stream string, opts eventstore.ReadStreamOptions) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadStream(ctx, stream, opts)
	if s.read != "" && stream == s.read {
		s.once.Do(s.between)
	}
	return recs, err
}

func (s *racing) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events []eventstore.EventData) (eventstore.AppendResult, error) {
	if s.read == "" {
		s.once.Do(s.between)
	}
	return s.Store.Append(ctx, stream, expected, events)
}

// appending is racing's read for "as the command first appends".
const appending = ""

// rightTaken is a change that takes a caller's right away (a removal, new
// roles, an erasure) sent while a command of the caller's runs.
type rightTaken struct {
	f       *fixture
	changed chan error
}

// during is the fixture's deps with a store that sends change at read (see
// racing) and gives it 300 ms unless it waits for the command.
func (r *rightTaken) during(read string, change func() error) commands.Deps {
	d := r.f.deps
	d.Store = &racing{Store: r.f.deps.Store, read: read, between: func() {
		go func() { r.changed <- change() }()
		select {
		case err := <-r.changed:
			r.changed <- err
		case <-time.After(300 * time.Millisecond):
		}
	}}
	return d
}

// check holds the command's outcome to the change: either refused with
// the problem of a caller who never had the right (refused), or recorded,
// in stream, before the change's event in changedIn.
func (r *rightTaken) check(t *testing.T, cmdErr, refused error, changedIn, stream string) {
	t.Helper()
	select {
	case err := <-r.changed:
		if err != nil {
			t.Fatalf("the change: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the change was never sent; the command answered %v", cmdErr)
	}
	if cmdErr != nil {
		if !errors.Is(cmdErr, refused) {
			t.Fatalf("the command: %v; want it refused with %v", cmdErr, refused)
		}
		return
	}
	change, done := lastPosition(t, r.f, changedIn), lastPosition(t, r.f, stream)
	if change.Less(done) {
		t.Fatalf("the command (%v) was recorded after the change that took its right away (%v)", done, change)
	}
}

// partnerUserRace is Alpha serving the account, and Bo, an admin agent of
// Alpha's (who may order, assign licenses and act on the customer's
// manager), losing that while a command of Bo's runs.
type partnerUserRace struct {
	rightTaken
	alpha     uuid.UUID
	admin, bo commands.Actor
	boID      uuid.UUID
}

func newPartnerUserRace(t *testing.T) *partnerUserRace {
	t.Helper()
	f := newFixture(t)
	f.deps.AccountSerial, f.deps.PartnerSerial = checked("account"), checked("partner")
	m := &partnerUserRace{rightTaken: rightTaken{f: f, changed: make(chan error, 1)}}
	m.alpha, m.admin = f.partner(t, "Alpha")
	ctx := context.Background()
	added, err := commands.AddPartnerUserHandler(f.deps).Handle(ctx, commands.AddPartnerUser{By: m.admin, PartnerID: m.alpha,
		Person: partner.Person{Email: "bo@alpha.example", FirstName: "B", LastName: "O", Roles: []string{"admin_agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	m.boID, m.bo = added.UserID, commands.Actor{Subject: "bo", Email: "bo@alpha.example"}
	if _, err := commands.AssociatePartnerHandler(f.deps).Handle(ctx, commands.AssociatePartner{By: operator, AccountID: f.account, PartnerID: m.alpha}); err != nil {
		t.Fatal(err)
	}
	return m
}

// remove, demote and erase are Bo's removal from Alpha, Bo's new roles
// (partner network admin: none of an admin agent's rights over
// customers), and the erasure of Bo's personal data.
func (m *partnerUserRace) remove() error {
	_, err := commands.ChangePartnerUserHandler(m.f.deps).Handle(context.Background(), commands.ChangePartnerUser{By: m.admin, PartnerID: m.alpha,
		UserID: m.boID, Remove: true})
	return err
}

func (m *partnerUserRace) demote() error {
	_, err := commands.ChangePartnerUserHandler(m.f.deps).Handle(context.Background(), commands.ChangePartnerUser{By: m.admin, PartnerID: m.alpha,
		UserID: m.boID, Roles: []string{"partner_network_admin"}})
	return err
}

func (m *partnerUserRace) erase() error {
	_, err := commands.ErasePartnerUserPersonalDataHandler(m.f.deps).Handle(context.Background(), commands.ErasePartnerUserPersonalData{
		By: operator, PartnerID: m.alpha, UserID: m.boID, Reason: "verified request 7"})
	return err
}

// order places an order of Alpha's for the account as by.
func (m *partnerUserRace) order(d commands.Deps, by commands.Actor) (commands.SubscriptionPurchased, error) {
	return commands.PurchaseSubscriptionHandler(d).Handle(context.Background(), commands.PurchaseSubscription{By: by, AccountID: m.f.account,
		Order: subscription.Order{ProductID: "office-e3", ProductName: "Office E3", Name: "team", OrderingPartnerID: &m.alpha,
			ExpiresAt: m.f.clock.Now().Add(365 * 24 * time.Hour), Price: subscription.Price{Amount: "10", Currency: "USD"}, TotalLicenses: 5}})
}

// ordered is a subscription Alpha's global admin ordered, and what the
// license commands need to draw from it.
func (m *partnerUserRace) ordered(t *testing.T) (uuid.UUID, commands.Licensing) {
	t.Helper()
	bought, err := m.order(m.f.deps, m.admin)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := licensing.Default()
	if err != nil {
		t.Fatal(err)
	}
	return bought.SubscriptionID, commands.Licensing{Catalog: cat, Lookup: noLookup{[]uuid.UUID{bought.SubscriptionID}}, Serial: m.f.deps.AccountSerial}
}

// An order Bo places as Bo is removed from Alpha is recorded before the
// removal, or refused as for anyone who is not Alpha's (404).
func TestPartnerOrder_never_lands_after_the_buyers_removal(t *testing.T) {
	m := newPartnerUserRace(t)
	bought, err := m.order(m.during(partner.Stream(m.alpha), m.remove), m.bo)
	m.check(t, err, domain.ErrNotFound, partner.Stream(m.alpha), subscription.Stream(bought.SubscriptionID))
}

// Nor after Bo's new roles no longer allow ordering (403, as for a
// partner user who may not order).
func TestPartnerOrder_never_lands_after_the_buyer_loses_the_role(t *testing.T) {
	m := newPartnerUserRace(t)
	bought, err := m.order(m.during(appending, m.demote), m.bo)
	m.check(t, err, domain.ErrForbidden, partner.Stream(m.alpha), subscription.Stream(bought.SubscriptionID))
}

// A subscription's new total: the removal right after Bo was checked
// comes before Bo's turn, and Bo is checked again in it.
func TestPartnerLicenseTotal_never_lands_after_the_users_removal(t *testing.T) {
	m := newPartnerUserRace(t)
	sub, _ := m.ordered(t)
	_, err := commands.SetLicenseTotalHandler(m.during(partner.Stream(m.alpha), m.remove)).Handle(context.Background(), commands.SetLicenseTotal{
		By: m.bo, AccountID: m.f.account, SubscriptionID: sub, Total: 7})
	m.check(t, err, domain.ErrNotFound, partner.Stream(m.alpha), subscription.Stream(sub))
}

// A cancellation: the removal sent as Bo appends waits for it.
func TestPartnerCancellation_never_lands_after_the_users_removal(t *testing.T) {
	m := newPartnerUserRace(t)
	sub, _ := m.ordered(t)
	_, err := commands.CancelSubscriptionHandler(m.during(appending, m.remove), commands.Licensing{}).Handle(context.Background(), commands.CancelSubscription{
		By: m.bo, AccountID: m.f.account, SubscriptionID: sub, Reason: "no_longer_needed"})
	m.check(t, err, domain.ErrNotFound, partner.Stream(m.alpha), subscription.Stream(sub))
}

// Bulk license assignment: Bo is checked before the account's lock, and
// again in it and in Alpha's turn.
func TestPartnerLicenses_never_land_after_the_users_removal(t *testing.T) {
	for _, at := range []string{"checked", "appending"} {
		t.Run(at, func(t *testing.T) {
			m := newPartnerUserRace(t)
			sub, l := m.ordered(t)
			viewer := m.f.viewer(t, "ria@fabrikam.example", true)
			read := map[string]string{"checked": partner.Stream(m.alpha), "appending": appending}[at]
			res, err := commands.AssignLicensesHandler(m.during(read, m.remove), l).Handle(context.Background(), commands.AssignLicenses{By: m.bo,
				AccountID: m.f.account, PartnerID: &m.alpha, UserIDs: []uuid.UUID{viewer}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
			if err == nil && outcomesOf(res) != "[assigned:]" {
				t.Fatalf("Bo's assignment: %s", outcomesOf(res))
			}
			m.check(t, err, domain.ErrNotFound, partner.Stream(m.alpha), subscription.Stream(sub))
		})
	}
}

// Nor after Bo's new roles no longer allow assigning (403).
func TestPartnerLicenses_never_land_after_the_user_loses_the_role(t *testing.T) {
	m := newPartnerUserRace(t)
	sub, l := m.ordered(t)
	viewer := m.f.viewer(t, "ria@fabrikam.example", true)
	_, err := commands.AssignLicensesHandler(m.during(partner.Stream(m.alpha), m.demote), l).Handle(context.Background(), commands.AssignLicenses{By: m.bo,
		AccountID: m.f.account, PartnerID: &m.alpha, UserIDs: []uuid.UUID{viewer}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
	m.check(t, err, domain.ErrForbidden, partner.Stream(m.alpha), subscription.Stream(sub))
}

// A self-service assignment on a subscription Alpha answers for, as Bo's
// personal data is erased (Bo is then nobody of Alpha's). The erasure is
// sent as the assignment appends: Bo's email is opened after the read, so
// an erasure right after it refuses the assignment at once.
func TestPartnerSubscriptionLicenses_never_land_after_the_users_erasure(t *testing.T) {
	m := newPartnerUserRace(t)
	sub, l := m.ordered(t)
	viewer := m.f.viewer(t, "ria@fabrikam.example", true)
	_, err := commands.AssignSubscriptionLicensesHandler(m.during(appending, m.erase), l).Handle(context.Background(),
		commands.AssignSubscriptionLicenses{By: m.bo, AccountID: m.f.account, SubscriptionID: sub, UserIDs: []uuid.UUID{viewer}})
	m.check(t, err, domain.ErrNotFound, partner.Stream(m.alpha), subscription.Stream(sub))
}

// A benefit package Bo buys for Alpha as Bo is removed.
func TestBenefitPackage_is_never_bought_after_the_buyers_removal(t *testing.T) {
	m := newPartnerUserRace(t)
	bought, err := commands.PurchaseBenefitPackageHandler(m.during(partner.Stream(m.alpha), m.remove)).Handle(context.Background(), commands.PurchaseBenefitPackage{
		By: m.bo, PartnerID: m.alpha, Order: benefit.Order{Name: "Pack", Price: subscription.Price{Amount: "10", Currency: "USD"},
			Benefits: []benefit.Spec{{Kind: "visual_studio", Name: "Visual Studio Enterprise", Quantity: 2}}}})
	m.check(t, err, domain.ErrNotFound, partner.Stream(m.alpha), benefit.Stream(bought.Purchased.PackageID))
}

// Bo designating the customer's manager as Bo is removed: the whole
// designation (the invitation, the account's record) comes first, or
// none of it.
func TestDesignateManager_by_a_partner_user_never_lands_after_the_users_removal(t *testing.T) {
	for _, at := range []string{"checked", "appending"} {
		t.Run(at, func(t *testing.T) {
			m := newPartnerUserRace(t)
			read := map[string]string{"checked": partner.Stream(m.alpha), "appending": appending}[at]
			_, err := commands.DesignateManagerHandler(m.during(read, m.remove)).Handle(context.Background(), commands.DesignateManager{By: m.bo,
				AccountID: m.f.account, Manager: user.Profile{Email: "kim@fabrikam.example", FirstName: "Kim", LastName: "N", Language: "en", Country: "US"}})
			m.check(t, err, domain.ErrNotFound, partner.Stream(m.alpha), account.Stream(m.f.account))
		})
	}
}

// Bo changing the pending manager's email as Bo's roles no longer allow
// it (403: Bo is still Alpha's user, and sees the account; the role is
// what is missing, as for an order).
func TestChangeManagerEmail_by_a_partner_user_never_lands_after_the_user_loses_the_role(t *testing.T) {
	m := newPartnerUserRace(t)
	manager := m.f.pendingManager(t)
	_, err := commands.ChangeManagerEmailHandler(m.during(partner.Stream(m.alpha), m.demote)).Handle(context.Background(), commands.ChangeManagerEmail{
		By: m.bo, AccountID: m.f.account, Email: "pat2@fabrikam.example"})
	m.check(t, err, domain.ErrForbidden, partner.Stream(m.alpha), user.Stream(manager))
}

// Nor resending the manager's invitation.
func TestResendInvitation_by_a_partner_user_never_lands_after_the_user_loses_the_role(t *testing.T) {
	m := newPartnerUserRace(t)
	manager := m.f.pendingManager(t)
	_, err := commands.ResendInvitationHandler(m.during(appending, m.demote)).Handle(context.Background(), commands.ResendInvitation{
		By: m.bo, AccountID: m.f.account, UserID: manager})
	m.check(t, err, domain.ErrForbidden, partner.Stream(m.alpha), user.Stream(manager))
}

// A user of a partner serving the account whose roles do not allow a
// command is refused with 403, not the 404 of someone the account is
// not visible to: a helpdesk agent changing the total or cancelling an
// order of the partner's, a sales agent acting on the customer's manager.
func TestPartner_users_without_the_role_are_forbidden_not_told_not_found(t *testing.T) {
	m := newPartnerUserRace(t)
	sub, _ := m.ordered(t)
	agent := func(email, role string) commands.Actor {
		if _, err := commands.AddPartnerUserHandler(m.f.deps).Handle(context.Background(), commands.AddPartnerUser{By: m.admin, PartnerID: m.alpha,
			Person: partner.Person{Email: email, FirstName: "A", LastName: "G", Roles: []string{role}}}); err != nil {
			t.Fatal(err)
		}
		return commands.Actor{Subject: email, Email: email}
	}
	helpdesk, sales := agent("hd@alpha.example", "helpdesk_agent"), agent("sa@alpha.example", "sales_agent")
	ctx := context.Background()
	_, totalErr := commands.SetLicenseTotalHandler(m.f.deps).Handle(ctx, commands.SetLicenseTotal{By: helpdesk, AccountID: m.f.account, SubscriptionID: sub, Total: 7})
	_, cancelErr := commands.CancelSubscriptionHandler(m.f.deps, commands.Licensing{}).Handle(ctx, commands.CancelSubscription{By: helpdesk, AccountID: m.f.account,
		SubscriptionID: sub, Reason: "other"})
	_, designateErr := commands.DesignateManagerHandler(m.f.deps).Handle(ctx, commands.DesignateManager{By: sales, AccountID: m.f.account,
		Manager: user.Profile{Email: "kim@fabrikam.example", FirstName: "Kim", LastName: "N", Language: "en", Country: "US"}})
	for what, err := range map[string]error{"new total": totalErr, "cancellation": cancelErr, "designation": designateErr} {
		if !errors.Is(err, domain.ErrForbidden) {
			t.Errorf("%s: %v, want forbidden", what, err)
		}
	}
}

// customerRace is the account's Account Manager, Ann, demoted to Account
// Viewer by the account's administrator while a command of Ann's runs.
type customerRace struct {
	rightTaken
	ann   commands.Actor
	annID uuid.UUID
}

func newCustomerRace(t *testing.T) *customerRace {
	t.Helper()
	f := newFixture(t)
	f.deps.AccountSerial, f.deps.PartnerSerial = checked("account"), checked("partner")
	inv, err := f.invite(f.admin, "ann@fabrikam.example", "account_manager")
	if err != nil {
		t.Fatal(err)
	}
	f.accept(t, inv.UserID)
	return &customerRace{rightTaken: rightTaken{f: f, changed: make(chan error, 1)}, annID: inv.UserID,
		ann: commands.Actor{Subject: "ann", Email: "ann@fabrikam.example"}}
}

func (m *customerRace) demote() error {
	_, err := commands.ChangeUserRolesHandler(m.f.deps).Handle(context.Background(), commands.ChangeUserRoles{By: m.f.admin, AccountID: m.f.account,
		UserID: m.annID, Roles: []string{"account_viewer"}})
	return err
}

func (m *customerRace) erase() error {
	_, err := commands.ErasePersonalDataHandler(m.f.deps).Handle(context.Background(), commands.ErasePersonalData{By: operator, AccountID: m.f.account,
		UserID: m.annID, Reason: "verified request 8"})
	return err
}

// Ann assigning licenses as she is demoted: checked before the account's
// lock, and again in it, which the demotion takes (403, as for an Account
// Viewer).
func TestCustomerLicenses_never_land_after_the_assigners_demotion(t *testing.T) {
	for _, at := range []string{"checked", "appending"} {
		t.Run(at, func(t *testing.T) {
			m := newCustomerRace(t)
			l, sub := m.f.licensed(t, "office-e3", 5)
			l.Serial = m.f.deps.AccountSerial
			viewer := m.f.viewer(t, "ria@fabrikam.example", true)
			read := map[string]string{"checked": user.Stream(m.annID), "appending": appending}[at]
			_, err := commands.AssignLicensesHandler(m.during(read, m.demote), l).Handle(context.Background(), commands.AssignLicenses{By: m.ann,
				AccountID: m.f.account, UserIDs: []uuid.UUID{viewer}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
			m.check(t, err, domain.ErrForbidden, user.Stream(m.annID), subscription.Stream(sub))
		})
	}
}

// Nor as her personal data is erased (404: she is then nobody of the
// account's).
func TestCustomerLicenses_never_land_after_the_assigners_erasure(t *testing.T) {
	m := newCustomerRace(t)
	l, sub := m.f.licensed(t, "office-e3", 5)
	l.Serial = m.f.deps.AccountSerial
	viewer := m.f.viewer(t, "ria@fabrikam.example", true)
	_, err := commands.AssignLicensesHandler(m.during(appending, m.erase), l).Handle(context.Background(), commands.AssignLicenses{By: m.ann,
		AccountID: m.f.account, UserIDs: []uuid.UUID{viewer}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
	m.check(t, err, domain.ErrNotFound, user.Stream(m.annID), subscription.Stream(sub))
}

// Ann buying a subscription as she is demoted.
func TestCustomerOrder_never_lands_after_the_buyers_demotion(t *testing.T) {
	m := newCustomerRace(t)
	bought, err := commands.PurchaseSubscriptionHandler(m.during(user.Stream(m.annID), m.demote)).Handle(context.Background(), commands.PurchaseSubscription{
		By: m.ann, AccountID: m.f.account, Order: subscription.Order{ProductID: "office-e3", ProductName: "Office E3", Name: "team",
			ExpiresAt: m.f.clock.Now().Add(365 * 24 * time.Hour), Price: subscription.Price{Amount: "10", Currency: "USD"}, TotalLicenses: 5}})
	m.check(t, err, domain.ErrForbidden, user.Stream(m.annID), subscription.Stream(bought.SubscriptionID))
}

// Nor changing a subscription's total.
func TestCustomerLicenseTotal_never_lands_after_the_buyers_demotion(t *testing.T) {
	m := newCustomerRace(t)
	_, sub := m.f.licensed(t, "office-e3", 5)
	_, err := commands.SetLicenseTotalHandler(m.during(appending, m.demote)).Handle(context.Background(), commands.SetLicenseTotal{
		By: m.ann, AccountID: m.f.account, SubscriptionID: sub, Total: 7})
	m.check(t, err, domain.ErrForbidden, user.Stream(m.annID), subscription.Stream(sub))
}

// deciding is a lookup that runs during, once, as a license command
// decides (it asks which of its users are active).
type deciding struct {
	noLookup
	during func()
	once   *sync.Once
}

func (l deciding) ActiveUsers(ctx context.Context, account uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	l.once.Do(l.during)
	return l.noLookup.ActiveUsers(ctx, account, ids)
}

// Bo's license command decides (reads its users: up to 10,000 streams)
// without Alpha's turn, which it shares only from its check of Bo to its
// appends: a removal of another of Alpha's users meanwhile, which waits
// for every holder of the turn, and what Alpha's users send behind that
// removal (here a benefit package), which waits for it, do not wait for
// the decision. Sharing the turn while deciding, one long command and a
// removal held every command of every user of the partner, in every
// account, for as long (503 after the lock's bound).
func TestPartnerLicenses_decide_outside_the_partners_turn(t *testing.T) {
	m := newPartnerUserRace(t)
	_, l := m.ordered(t)
	viewer := m.f.viewer(t, "ria@fabrikam.example", true)
	ctx := context.Background()
	cy, err := commands.AddPartnerUserHandler(m.f.deps).Handle(ctx, commands.AddPartnerUser{By: m.admin, PartnerID: m.alpha,
		Person: partner.Person{Email: "cy@alpha.example", FirstName: "C", LastName: "Y", Roles: []string{"sales_agent"}}})
	if err != nil {
		t.Fatal(err)
	}
	meanwhile := make(chan error, 1)
	l.Lookup = deciding{noLookup: l.Lookup.(noLookup), once: &sync.Once{}, during: func() {
		go func() {
			_, err := commands.ChangePartnerUserHandler(m.f.deps).Handle(ctx, commands.ChangePartnerUser{By: m.admin, PartnerID: m.alpha,
				UserID: cy.UserID, Remove: true})
			if err == nil {
				_, err = commands.PurchaseBenefitPackageHandler(m.f.deps).Handle(ctx, commands.PurchaseBenefitPackage{By: m.admin, PartnerID: m.alpha,
					Order: benefit.Order{Name: "Pack", Price: subscription.Price{Amount: "10", Currency: "USD"},
						Benefits: []benefit.Spec{{Kind: "visual_studio", Name: "Visual Studio Enterprise", Quantity: 2}}}})
			}
			meanwhile <- err
		}()
		select {
		case err := <-meanwhile:
			if err != nil {
				t.Errorf("Cy's removal, then a package: %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Error("Cy's removal and a package bought behind it waited for Bo's license command to decide")
		}
	}}
	res, err := commands.AssignLicensesHandler(m.f.deps, l).Handle(ctx, commands.AssignLicenses{By: m.bo, AccountID: m.f.account,
		PartnerID: &m.alpha, UserIDs: []uuid.UUID{viewer}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
	if err != nil || outcomesOf(res) != "[assigned:]" {
		t.Fatalf("Bo's assignment: %s, %v", outcomesOf(res), err)
	}
}

// So Bo is checked again in Alpha's turn, after the decision: removed as
// the command decides, Bo is refused (404), and nothing is recorded.
func TestPartnerLicenses_are_refused_when_the_user_is_removed_as_they_decide(t *testing.T) {
	m := newPartnerUserRace(t)
	sub, l := m.ordered(t)
	viewer := m.f.viewer(t, "ria@fabrikam.example", true)
	l.Lookup = deciding{noLookup: l.Lookup.(noLookup), once: &sync.Once{}, during: func() {
		go func() { m.changed <- m.remove() }()
		select {
		case err := <-m.changed:
			m.changed <- err
		case <-time.After(300 * time.Millisecond):
		}
	}}
	_, err := commands.AssignLicensesHandler(m.f.deps, l).Handle(context.Background(), commands.AssignLicenses{By: m.bo, AccountID: m.f.account,
		PartnerID: &m.alpha, UserIDs: []uuid.UUID{viewer}, Products: []licensing.Choice{{ProductID: "office-e3"}}})
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Bo's assignment as Bo is removed: %v; want it refused as by no user of Alpha's", err)
	}
	m.check(t, err, domain.ErrNotFound, partner.Stream(m.alpha), subscription.Stream(sub))
}
