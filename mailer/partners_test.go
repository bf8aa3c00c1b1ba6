package mailer_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/eventstore"
)

// registerPartner appends a partner organization and returns its id.
func (h *harness) registerPartner(name string) uuid.UUID {
	id := uuid.New()
	h.append(partner.Stream(id), partner.Registered{PartnerID: id, Name: name, RegisteredBy: "op-1"})
	return id
}

// addPartnerUser appends a partner user with roles and returns the user.
func (h *harness) addPartnerUser(partnerID uuid.UUID, email string, roles ...partner.Role) partner.UserAdded {
	e := partner.UserAdded{PartnerID: partnerID, UserID: uuid.New(), Email: email, FirstName: "Jisoo", LastName: "Han", Roles: roles, AddedBy: "op-1"}
	h.append(partner.Stream(partnerID), e)
	return e
}

// grant appends a visibility grant and returns its event id.
func (h *harness) grant(accountID, grantee, source uuid.UUID) uuid.UUID {
	id, _ := h.append(account.Stream(accountID), account.PartnerVisibilityGranted{
		AccountID: accountID, GranteePartnerID: grantee, SourcePartnerID: source, GrantedBy: "customer-admin"})
	return id
}

// readMail reads an .eml: its one recipient, subject and body.
func readMail(t *testing.T, path string) (to, subject, body string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, body := parse(t, raw)
	addrs, err := m.Header.AddressList("To")
	if err != nil || len(addrs) != 1 {
		t.Fatalf("To %v (%v)", addrs, err)
	}
	return addrs[0].Address, decoded(t, m.Header, "Subject"), body
}

// recipientKey is the mail_sent key the mailer documents for one
// recipient of an event: a UUIDv5 of the user id in the event id's space.
func recipientKey(eventID, userID uuid.UUID) uuid.UUID { return uuid.NewSHA1(eventID, userID[:]) }

func TestConsumer_mails_a_visibility_grant_once_to_each_admin_of_the_grantee(t *testing.T) {
	h := newHarness(t)
	h.start()
	acct := h.register("Contoso 코리아")
	grantee := h.registerPartner("Adatum Reseller")
	admin := h.addPartnerUser(grantee, "admin@adatum.example", partner.GlobalAdmin)
	agent := h.addPartnerUser(grantee, "agent@adatum.example", partner.AdminAgent, partner.SalesAgent)
	h.addPartnerUser(grantee, "sales@adatum.example", partner.SalesAgent)
	h.addPartnerUser(grantee, "helpdesk@adatum.example", partner.HelpdeskAgent, partner.UserManagementAdmin)
	// Roles as they stand at the grant count: one admin left, one was
	// demoted, one promoted.
	gone := h.addPartnerUser(grantee, "gone@adatum.example", partner.GlobalAdmin)
	h.append(partner.Stream(grantee), partner.UserRemoved{PartnerID: grantee, UserID: gone.UserID, RemovedBy: "op-1"})
	demoted := h.addPartnerUser(grantee, "demoted@adatum.example", partner.GlobalAdmin)
	h.append(partner.Stream(grantee), partner.UserRolesChanged{PartnerID: grantee, UserID: demoted.UserID, Roles: []partner.Role{partner.SalesAgent}, ChangedBy: "op-1"})
	promoted := h.addPartnerUser(grantee, "promoted@adatum.example", partner.HelpdeskAgent)
	h.append(partner.Stream(grantee), partner.UserRolesChanged{PartnerID: grantee, UserID: promoted.UserID, Roles: []partner.Role{partner.AdminAgent}, ChangedBy: "op-1"})
	source := h.registerPartner("Northwind Partners")
	h.addPartnerUser(source, "admin@northwind.example", partner.GlobalAdmin)

	grantID := h.grant(acct, grantee, source)
	files := h.mails(3)
	var to []string
	viewURL := "https://bc.example/v1/partners/" + grantee.String() + "/accounts/" + acct.String() + "/subscriptions"
	for _, f := range files {
		addr, subject, body := readMail(t, f)
		to = append(to, addr)
		if subject != "Contoso 코리아 now lets you see the orders of Northwind Partners" {
			t.Errorf("subject %q", subject)
		}
		for _, want := range []string{"Hello Jisoo Han,", "the customer account Contoso 코리아 allowed Adatum Reseller",
			"that Northwind Partners ordered", "\r\n" + viewURL + "\r\n"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: body lacks %q:\n%s", addr, want, body)
			}
		}
	}
	slices.Sort(to)
	if want := []string{"admin@adatum.example", "agent@adatum.example", "promoted@adatum.example"}; !slices.Equal(to, want) {
		t.Fatalf("mailed %v, want %v", to, want)
	}
	for _, u := range []partner.UserAdded{admin, agent, promoted} {
		if got := h.outcome(recipientKey(grantID, u.UserID)); got != "sent" {
			t.Errorf("%s: outcome %q, want sent", u.Email, got)
		}
	}

	// Replay: forget the checkpoint, keep mail_sent. A global admin added
	// since the grant was not told of it then and is not told now.
	h.addPartnerUser(grantee, "late@adatum.example", partner.GlobalAdmin)
	h.settle()
	h.replay()
	if n := len(h.files()); n != 3 {
		t.Fatalf("replay sent mail again: %d files", n)
	}
}

func TestConsumer_skips_a_grant_to_a_partner_without_admins(t *testing.T) {
	h := newHarness(t)
	h.start()
	acct := h.register("Fabrikam")
	grantee := h.registerPartner("Adatum Reseller")
	h.addPartnerUser(grantee, "sales@adatum.example", partner.SalesAgent)
	source := h.registerPartner("Northwind Partners")
	grantID := h.grant(acct, grantee, source)
	h.settle()
	if n := len(h.files()); n != 0 {
		t.Fatalf("%d mails sent", n)
	}
	if got, want := h.outcome(grantID), "skipped: the grantee has no global admin or admin agent"; got != want {
		t.Errorf("outcome %q, want %q", got, want)
	}
}

func TestConsumer_announces_a_grant_revoked_before_the_mailer_saw_it(t *testing.T) {
	h := newHarness(t)
	acct := h.register("Fabrikam")
	grantee := h.registerPartner("Adatum Reseller")
	h.addPartnerUser(grantee, "admin@adatum.example", partner.GlobalAdmin)
	source := h.registerPartner("Northwind Partners")
	h.grant(acct, grantee, source)
	h.append(account.Stream(acct), account.PartnerVisibilityRevoked{
		AccountID: acct, GranteePartnerID: grantee, SourcePartnerID: source, RevokedBy: "customer-admin"})
	h.start()
	if to, _, _ := readMail(t, h.mails(1)[0]); to != "admin@adatum.example" {
		t.Errorf("mailed %s", to)
	}
}

// A change of channel partner hands the former partner's grants to the
// new one: its admins are told of each grant it did not have, once.
func TestConsumer_mails_the_grants_a_new_channel_partner_inherits(t *testing.T) {
	h := newHarness(t)
	h.start()
	acct := h.register("Contoso")
	former, source, other := h.registerPartner("Litware"), h.registerPartner("Northwind Partners"), h.registerPartner("Proseware")
	successor := h.registerPartner("Adatum Reseller")
	admin := h.addPartnerUser(successor, "admin@adatum.example", partner.GlobalAdmin)
	h.grant(acct, former, source)   // passes to the successor: announced
	h.grant(acct, former, other)    // the successor has it already: not again
	h.grant(acct, successor, other) // a grant of its own: announced as such
	h.grant(acct, source, former)   // what the former partner ordered is the successor's now: ends
	h.mails(1)
	changeID, _ := h.append(account.Stream(acct), account.ChannelPartnerChanged{
		AccountID: acct, FromPartnerID: former, ToPartnerID: successor, ChangedBy: "op-1"})
	files := h.mails(2)
	var inherited []string
	for _, f := range files {
		to, subject, body := readMail(t, f)
		if !strings.Contains(body, "moved from Litware to Adatum Reseller") {
			continue
		}
		inherited = append(inherited, to+": "+subject)
		if !strings.Contains(body, "that Northwind Partners ordered for it; Adatum Reseller now sees them") {
			t.Errorf("body:\n%s", body)
		}
	}
	if want := []string{"admin@adatum.example: Contoso now lets you see the orders of Northwind Partners"}; !slices.Equal(inherited, want) {
		t.Fatalf("inherited grants mailed %v, want %v", inherited, want)
	}
	if got := h.outcome(recipientKey(uuid.NewSHA1(changeID, source[:]), admin.UserID)); got != "sent" {
		t.Errorf("outcome %q, want sent", got)
	}

	// Replay: nothing is mailed again.
	h.replay()
	if n := len(h.files()); n != 2 {
		t.Fatalf("replay sent mail again: %d files", n)
	}
}

// An event of a newer release in the account's history, which the feed
// passes over, does not stop the channel change's grants from being read
// (nor, then, every email after it).
func TestConsumer_reads_grants_past_an_account_event_of_a_newer_release(t *testing.T) {
	h := newHarness(t)
	h.start()
	acct := h.register("Contoso")
	former, source, successor := h.registerPartner("Litware"), h.registerPartner("Northwind Partners"), h.registerPartner("Adatum Reseller")
	h.addPartnerUser(successor, "admin@adatum.example", partner.GlobalAdmin)
	h.grant(acct, former, source)
	id := uuid.New()
	if _, err := h.store.Append(context.Background(), account.Stream(acct), eventstore.Any(), []eventstore.EventData{{
		ID: id, Type: "account.of_a_newer_release", Data: []byte(`{}`),
		Metadata: []byte(`{"eventId":"` + id.String() + `","actor":"system","correlationId":"x","occurredAt":"2026-01-01T00:00:00Z"}`)}}); err != nil {
		t.Fatal(err)
	}
	h.append(account.Stream(acct), account.ChannelPartnerChanged{AccountID: acct, FromPartnerID: former, ToPartnerID: successor, ChangedBy: "op-1"})
	for _, f := range h.mails(1) {
		if _, subject, _ := readMail(t, f); subject != "Contoso now lets you see the orders of Northwind Partners" {
			t.Errorf("subject %q", subject)
		}
	}
}

// Names at their longest (200 characters an account's or a partner's, in
// Korean three bytes each) make a line of the grant's email longer than
// RFC 5322's 998 bytes: the email goes all the same, quoted-printable, and
// reads as written. It was refused on every try and never sent.
func TestConsumer_mails_a_grant_between_partners_with_long_names(t *testing.T) {
	h := newHarness(t)
	h.start()
	name := func(s string) string { return strings.Repeat(s, 200/utf8.RuneCountInString(s)) }
	acct := h.register(name("고객사"))
	grantee, source := h.registerPartner(name("파트너")), h.registerPartner(name("리셀러"))
	admin := h.addPartnerUser(grantee, "admin@adatum.example", partner.GlobalAdmin)
	grantID := h.grant(acct, grantee, source)
	eventually(t, "the grant's outcome", func() bool {
		o := h.outcome(recipientKey(grantID, admin.UserID))
		return o != "" && o != "pending"
	})
	if got := h.outcome(recipientKey(grantID, admin.UserID)); got != "sent" {
		t.Fatalf("outcome %q, want sent", got)
	}
	_, _, body := readMail(t, h.mails(1)[0])
	if want := "the customer account " + name("고객사") + " allowed " + name("파트너") + " to see"; !strings.Contains(body, want) {
		t.Errorf("body lacks the names as written:\n%s", body)
	}
}
