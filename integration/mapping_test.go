package integration_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/account"
	_ "github.com/bizcenter/bizcenter/domain/benefit" // registers its events: every domain type is checked below
	_ "github.com/bizcenter/bizcenter/domain/billing"
	"github.com/bizcenter/bizcenter/domain/event"
	_ "github.com/bizcenter/bizcenter/domain/licensing"
	"github.com/bizcenter/bizcenter/domain/partner"
	_ "github.com/bizcenter/bizcenter/domain/reservation"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/integration"
)

var (
	acct, usr, prt, prt2, sub = uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	at                        = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
)

// samples holds one domain event of every published type, with personal
// fields filled in, so the tests see what would leak.
func samples() []event.Event {
	return []event.Event{
		account.Registered{AccountID: acct, Name: "Contoso", AgreementNumber: "AG-1", PurchaseAccountNumber: "PA-1", ManagerUserID: usr, ManagerEmail: "mina.park@contoso.example", RegisteredBy: "op-1"},
		account.ManagerDesignated{AccountID: acct, ManagerUserID: usr, ManagerEmail: "mina.park@contoso.example", DesignatedBy: "op-1"},
		account.DomainAdded{AccountID: acct, Domain: "contoso.example", AddedBy: "a"},
		account.DomainRemoved{AccountID: acct, Domain: "contoso.example", RemovedBy: "a"},
		account.PartnerAssociated{AccountID: acct, PartnerID: prt, AssociatedBy: "op"},
		account.ChannelPartnerChanged{AccountID: acct, FromPartnerID: prt, ToPartnerID: prt2, ChangedBy: "op"},
		account.PartnerVisibilityGranted{AccountID: acct, GranteePartnerID: prt, SourcePartnerID: prt2, GrantedBy: "a"},
		account.PartnerVisibilityRevoked{AccountID: acct, GranteePartnerID: prt, SourcePartnerID: prt2, RevokedBy: "a"},
		user.Invited{UserID: usr, AccountID: acct, Email: "mina.park@contoso.example", FirstName: "Mina", LastName: "Park", Language: "ko-KR", Country: "KR",
			Roles: []user.Role{user.AccountViewer}, InvitationID: uuid.New(), TokenHash: "secret-hash", InvitedBy: "a", SentAt: at, ExpiresAt: at.Add(60 * 24 * time.Hour)},
		user.InvitationResent{UserID: usr, AccountID: acct, InvitationID: uuid.New(), TokenHash: "secret-hash", ResentBy: "a", SentAt: at, ExpiresAt: at},
		user.InvitationAccepted{UserID: usr, AccountID: acct, InvitationID: uuid.New(), AcceptedAt: at},
		user.RolesChanged{UserID: usr, AccountID: acct, Roles: []user.Role{user.ReportsViewer}, Added: []user.Role{user.ReportsViewer}, ChangedBy: "a", ChangedAt: at},
		user.EmailChanged{UserID: usr, AccountID: acct, Email: "mina.park@contoso.example", ChangedBy: "a"},
		user.InvitationExpired{UserID: usr, AccountID: acct, InvitationID: uuid.New(), ExpiredAt: at},
		user.PersonalDataErased{UserID: usr, AccountID: acct, ErasedBy: "op", Reason: "DSR-1 for Mina Park", ErasedAt: at},
		partner.Registered{PartnerID: prt, Name: "Fabrikam", RegisteredBy: "op"},
		partner.UserAdded{PartnerID: prt, UserID: usr, Email: "mina.park@contoso.example", FirstName: "Mina", LastName: "Park", Roles: []partner.Role{"global_admin"}, AddedBy: "op"},
		partner.UserRolesChanged{PartnerID: prt, UserID: usr, Roles: []partner.Role{"sales_agent"}, ChangedBy: "op"},
		partner.UserRemoved{PartnerID: prt, UserID: usr, RemovedBy: "op"},
		partner.UserPersonalDataErased{PartnerID: prt, UserID: usr, ErasedBy: "op", Reason: "verified request", ErasedAt: at},
		subscription.Purchased{SubscriptionID: sub, AccountID: acct, ProductID: "m365-e3", ProductName: "Microsoft 365 E3", Name: "E3", OrderingPartnerID: &prt,
			BuyerUserID: &usr, PurchasedBy: "a", PurchasedAt: at, ExpiresAt: at.AddDate(1, 0, 0), Price: subscription.Price{Amount: "1234.50", Currency: "USD"}, TotalLicenses: 10},
		subscription.Purchased{SubscriptionID: sub, AccountID: acct, ProductID: "visio", ProductName: "Visio", Name: "V", PurchasedBy: "a", PurchasedAt: at,
			ExpiresAt: at.AddDate(1, 0, 0), Price: subscription.Price{Amount: "5", Currency: "EUR"}, TotalLicenses: 1},
		subscription.LicenseTotalChanged{SubscriptionID: sub, AccountID: acct, PreviousTotal: 10, Total: 15, ChangedBy: "a"},
		subscription.Cancelled{SubscriptionID: sub, AccountID: acct, Reason: "other", Feedback: "Mina Park at mina.park@contoso.example said so", CancelledBy: "a", CancelledAt: at},
		subscription.Expired{SubscriptionID: sub, AccountID: acct, ExpiresAt: at, RecordedAt: at},
	}
}

func envelope(e event.Event, rev uint64) event.Envelope {
	return event.Envelope{
		Metadata: event.Metadata{EventID: uuid.New(), SchemaVersion: 1, Actor: "mina", CorrelationID: "c-1", OccurredAt: at,
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		Stream: "s", Revision: rev, Position: "812-57", Event: e,
	}
}

func TestMap_every_published_type_matches_its_schema(t *testing.T) {
	seen := map[string]bool{}
	for i, e := range samples() {
		ie, ok, err := integration.Map(envelope(e, uint64(i)))
		if err != nil || !ok {
			t.Fatalf("%s: mapped %v, %v", e.EventType(), ok, err)
		}
		if err := integration.Validate(ie.JSON()); err != nil {
			t.Errorf("%s does not match its schema: %v\n%s", ie.Type, err, ie.JSON())
		}
		if ie.Type != integration.Types[e.EventType()] {
			t.Errorf("%s mapped to %s, Types says %s", e.EventType(), ie.Type, integration.Types[e.EventType()])
		}
		seen[e.EventType()] = true
	}
	for dt := range integration.Types {
		if !seen[dt] {
			t.Errorf("no sample of %s: add one", dt)
		}
	}
}

func TestMap_carries_no_personal_data(t *testing.T) {
	for _, e := range samples() {
		ie, _, _ := integration.Map(envelope(e, 0))
		body := string(ie.JSON())
		for _, secret := range []string{"mina.park@", "Mina", "Park", "secret-hash", "ko-KR", `"mina"`} {
			if strings.Contains(body, secret) {
				t.Errorf("%s carries %q: %s", ie.Type, secret, body)
			}
		}
	}
}

func TestMap_every_domain_type_is_published_or_declared_internal(t *testing.T) {
	for _, dt := range slices.Sorted(slices.Values(event.Types())) {
		_, published := integration.Types[dt]
		_, internal := integration.Internal[dt]
		if published == internal {
			t.Errorf("domain event %s: map it in integration/mapping.go (and document it in docs/integration.md) or list it in integration.Internal", dt)
		}
	}
}

func TestMap_internal_events_are_not_published(t *testing.T) {
	for _, e := range []event.Event{account.AdministratorGranted{AccountID: acct, UserID: usr}, account.AdministratorRevoked{AccountID: acct, UserID: usr}} {
		if _, ok, _ := integration.Map(envelope(e, 0)); ok {
			t.Errorf("%s was mapped", e.EventType())
		}
	}
}

func TestMap_envelope_attributes(t *testing.T) {
	env := envelope(user.InvitationAccepted{UserID: usr, AccountID: acct, AcceptedAt: at}, 3)
	ie, _, _ := integration.Map(env)
	want := integration.Event{SpecVersion: "1.0", ID: env.EventID.String(), Source: "/bizcenter/accounts/" + acct.String(),
		Type: "bizcenter.user.invitation_accepted.v1", Subject: "users/" + usr.String(), Time: at, DataContentType: "application/json",
		Position: "812-57", Aggregate: "users/" + usr.String(), Sequence: "3", AccountID: acct.String(), CorrelationID: "c-1",
		TraceParent: env.TraceParent}
	ie.Data = nil
	if ie.SpecVersion != want.SpecVersion || ie.ID != want.ID || ie.Source != want.Source || ie.Type != want.Type || ie.Subject != want.Subject ||
		!ie.Time.Equal(want.Time) || ie.Position != want.Position || ie.Aggregate != want.Aggregate || ie.Sequence != want.Sequence ||
		ie.AccountID != want.AccountID || ie.CorrelationID != want.CorrelationID || ie.TraceParent != want.TraceParent {
		t.Fatalf("got %+v\nwant %+v", ie, want)
	}
}

func TestValidate_refuses_what_the_contract_does_not_allow(t *testing.T) {
	ie, _, _ := integration.Map(envelope(user.InvitationAccepted{UserID: usr, AccountID: acct, AcceptedAt: at}, 0))
	ie.Data = []byte(`{"userId":"` + usr.String() + `","accountId":"` + acct.String() + `","acceptedAt":"2026-05-01T08:00:00Z","email":"x@y.example"}`)
	if integration.Validate(ie.JSON()) == nil {
		t.Fatal("an extra data field passed")
	}
	ie.Data = []byte(`{"userId":"not-a-uuid","accountId":"` + acct.String() + `","acceptedAt":"2026-05-01T08:00:00Z"}`)
	if integration.Validate(ie.JSON()) == nil {
		t.Fatal("a bad uuid passed")
	}
}

// docs/integration.md shows every schema as it is embedded.
func TestDocs_show_every_schema(t *testing.T) {
	doc, err := os.ReadFile("../docs/integration.md")
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := integration.Schemas.ReadDir("schemas")
	for _, e := range entries {
		b, _ := integration.Schemas.ReadFile("schemas/" + e.Name())
		if !strings.Contains(string(doc), "```json\n"+string(b)+"```") {
			t.Errorf("docs/integration.md does not show schemas/%s as it is (regenerate the section)", e.Name())
		}
	}
}

// Every role the domain gives is one the schemas name: a partner user
// added with, or given, partner_network_admin was published as an event
// its own schema refused (the enum listed the five roles before it).
func TestMap_every_role_matches_the_schemas(t *testing.T) {
	var events []event.Event
	for _, r := range partner.AllRoles {
		events = append(events,
			partner.UserAdded{PartnerID: prt, UserID: usr, Email: "a@b.example", FirstName: "A", LastName: "B", Roles: []partner.Role{r}, AddedBy: "op"},
			partner.UserRolesChanged{PartnerID: prt, UserID: usr, Roles: []partner.Role{r}, ChangedBy: "op"})
	}
	events = append(events,
		partner.UserAdded{PartnerID: prt, UserID: usr, Email: "a@b.example", FirstName: "A", LastName: "B", Roles: partner.AllRoles, AddedBy: "op"},
		partner.UserRolesChanged{PartnerID: prt, UserID: usr, Roles: partner.AllRoles, ChangedBy: "op"})
	for _, r := range user.AllRoles {
		events = append(events,
			user.Invited{UserID: usr, AccountID: acct, Email: "a@b.example", FirstName: "A", LastName: "B", Language: "en-US", Country: "US",
				Roles: []user.Role{r}, InvitationID: uuid.New(), InvitedBy: "a", SentAt: at, ExpiresAt: at},
			user.RolesChanged{UserID: usr, AccountID: acct, Roles: []user.Role{r}, Added: []user.Role{r}, Removed: []user.Role{r}, ChangedBy: "a", ChangedAt: at})
	}
	for _, e := range events {
		ie, _, err := integration.Map(envelope(e, 0))
		if err != nil {
			t.Fatal(err)
		}
		if err := integration.Validate(ie.JSON()); err != nil {
			t.Errorf("%s does not match its schema: %v\n%s", ie.Type, err, ie.Data)
		}
	}
}
