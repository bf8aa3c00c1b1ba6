package account

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

func given(events ...event.Event) *Account {
	var a Account
	for _, e := range events {
		a.Apply(e)
	}
	return &a
}

// An account counts its administrators once each, among them a manager
// designated before designations carried their grant (manager_designated
// alone); a change of the manager's email grants nothing.
func TestAdministrators_count_a_designated_manager_once(t *testing.T) {
	id, tom, vic := uuid.New(), uuid.New(), uuid.New()
	registered := Registered{AccountID: id, Name: "Tailspin", ManagerUserID: tom, ManagerEmail: "tom@tailspin.example"}
	designated := ManagerDesignated{AccountID: id, ManagerUserID: vic, ManagerEmail: "vic@tailspin.example"}
	for name, c := range map[string]struct {
		history []event.Event
		want    []uuid.UUID
	}{
		"a designation before 2026-12-06": {[]event.Event{registered, designated}, []uuid.UUID{tom, vic}},
		"a designation with its grant":    {[]event.Event{registered, designated, AdministratorGranted{AccountID: id, UserID: vic}}, []uuid.UUID{tom, vic}},
		"a grant of an administrator":     {[]event.Event{registered, AdministratorGranted{AccountID: id, UserID: tom}}, []uuid.UUID{tom}},
		"a change of the manager's email": {[]event.Event{registered, designated, AdministratorRevoked{AccountID: id, UserID: vic},
			ManagerDesignated{AccountID: id, ManagerUserID: vic, ManagerEmail: "victoria@tailspin.example"}}, []uuid.UUID{tom}},
	} {
		if got := given(c.history...).Administrators(); !slices.Equal(got, c.want) {
			t.Errorf("%s: administrators %v, want %v", name, got, c.want)
		}
	}
}

// The last active administrator stays; one who never signed in may leave
// whatever remains; anyone may leave while another active one remains.
func TestRevokeAdministrator_keeps_the_last_active_one(t *testing.T) {
	id, tom, vic := uuid.New(), uuid.New(), uuid.New()
	a := given(Registered{AccountID: id, ManagerUserID: tom}, AdministratorGranted{AccountID: id, UserID: vic})
	if _, err := a.RevokeAdministrator(tom, true, 0, "op"); !domain.IsRule(err, "last-account-administrator") {
		t.Fatalf("the last active administrator: %v", err)
	}
	for _, c := range []struct {
		active bool
		others int
	}{{false, 0}, {true, 1}} {
		r, err := a.RevokeAdministrator(tom, c.active, c.others, "op")
		if err != nil || r == nil || r.UserID != tom {
			t.Fatalf("active %v, %d others active: %v %v", c.active, c.others, r, err)
		}
	}
	if r, err := a.RevokeAdministrator(uuid.New(), true, 0, "op"); r != nil || err != nil {
		t.Fatalf("no administrator: %v %v", r, err)
	}
}

// An account's domain is kept in lower case, and one typed in Unicode in
// its xn-- form, as users' emails keep theirs: the two are compared.
func TestNormalizeDomain(t *testing.T) {
	for in, want := range map[string]string{
		" Contoso.COM. ": "contoso.com",
		"회사.한국":          "xn--vf4b131b.xn--3e0b707e",
		"Bücher.Example": "xn--bcher-kva.example",
		"ｃｏｎｔｏｓｏ．ｋｒ":     "contoso.kr",
	} {
		if got, err := NormalizeDomain(in); err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"contoso", "localhost", "10.0.0.1", "-회사.한국", "회사_x.한국", "회사..한국", ""} {
		if got, err := NormalizeDomain(in); err == nil {
			t.Errorf("%q taken as %q", in, got)
		}
	}
}

// An account's domain and the domain of a user's email there are compared
// (outsideDomains), so one name typed alike must come out alike: IDNA maps
// the name as typed, as it does an email's, before anything lower-cases it
// (to IDNA, ẞ is ss and İ is i̇; strings.ToLower makes them ß and i).
func TestNormalizeDomain_is_the_domain_of_an_email_there(t *testing.T) {
	for _, typed := range []string{"STRAẞE.example", "İstanbul.example", "회사.한국", "Bücher.Example", "ｃｏｎｔｏｓｏ．ｋｒ", "Contoso.COM"} {
		d, err := NormalizeDomain(typed)
		email, why := user.CheckEmail("ana@" + typed)
		if err != nil || why != "" {
			t.Errorf("%q: domain %v, email %q", typed, err, why)
			continue
		}
		if _, got, _ := strings.Cut(user.NormalizeEmail(email), "@"); got != d {
			t.Errorf("%q: the account's domain is %q, the email's %q", typed, d, got)
		}
	}
	if d, err := NormalizeDomain("회사.한국。"); err != nil || d != "xn--vf4b131b.xn--3e0b707e" {
		t.Errorf("an ideographic full stop at the end: %q %v", d, err)
	}
}

// A label that starts with xn-- claims to be an IDN's A-label: one that
// is no Punycode of a name IDNA allows ("xn--a" decodes to U+0080), or not
// the form IDNA would write, is no domain anyone can type, and is refused
// like any other bad name rather than listed and reserved.
func TestCheckNewDomain_refuses_labels_that_are_no_A_label(t *testing.T) {
	for _, in := range []string{"xn--a.com", "XN--A.COM", "mail.xn--zz.example", "contoso.xn--zzzzzzzz", "xn--bcher-kva-.example"} {
		d, err := NormalizeDomain(in)
		if err == nil {
			err = CheckNewDomain(d)
		}
		if err == nil {
			t.Errorf("%q taken as %q", in, d)
		}
	}
	for in, want := range map[string]string{"XN--BCHER-KVA.example": "xn--bcher-kva.example", "xn--vf4b131b.xn--3e0b707e": "xn--vf4b131b.xn--3e0b707e"} {
		got, err := NormalizeDomain(in)
		if err == nil {
			err = CheckNewDomain(got)
		}
		if err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, err, want)
		}
	}
}

// A consumer mail service's domain is no organization's: refused to add,
// while a company's domain that merely contains such a name is not.
func TestCheckNewDomain_refuses_a_consumer_mail_domain(t *testing.T) {
	for _, in := range []string{"gmail.com", "Outlook.com.", "NAVER.COM"} {
		d, err := NormalizeDomain(in)
		if err == nil {
			err = CheckNewDomain(d)
		}
		if err == nil {
			t.Errorf("%q taken as %q", in, d)
		}
	}
	if err := CheckNewDomain("outlook.com.northwind.example"); err != nil {
		t.Errorf("a company's domain: %v", err)
	}
}

// An account with no domain, partner or grant lists none as [] for
// auditors, as every list of the API does: the as-of view answered null.
func TestSnapshot_lists_none_as_empty(t *testing.T) {
	id := uuid.New()
	doc, err := json.Marshal(given(Registered{AccountID: id, Name: "Tailspin", ManagerUserID: uuid.New()}).Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{`"domains":[]`, `"partners":[]`, `"partnerVisibility":[]`} {
		if !strings.Contains(string(doc), field) {
			t.Errorf("snapshot %s lacks %s", doc, field)
		}
	}
}
