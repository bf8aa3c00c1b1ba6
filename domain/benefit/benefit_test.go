package benefit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/benefit"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/partner"
	"github.com/bizcenter/bizcenter/domain/subscription"
)

var (
	t0        = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	packageID = uuid.MustParse("0190a4c2-0000-7000-8000-0000000000b1")
	partnerID = uuid.MustParse("0190a4c2-0000-7000-8000-0000000000b2")
	ann       = partner.Member{ID: uuid.MustParse("0190a4c2-0000-7000-8000-0000000000c1"), Email: "ann@alpha.example"}
	bo        = partner.Member{ID: uuid.MustParse("0190a4c2-0000-7000-8000-0000000000c2"), Email: "bo@alpha.example"}
	cy        = partner.Member{ID: uuid.MustParse("0190a4c2-0000-7000-8000-0000000000c3"), Email: "cy@alpha.example"}
)

// ids of the benefits of order(), in its order.
func benefitID(i int) uuid.UUID { return uuid.NewSHA1(packageID, []byte{byte(i)}) }

var (
	software, cloudUsage, cloudLicense = benefitID(0), benefitID(1), benefitID(2)
	vs, technical, gtm                 = benefitID(3), benefitID(4), benefitID(5)
)

func order() benefit.Order {
	return benefit.Order{Name: "Action Pack 2026", Price: subscription.Price{Amount: "475.00", Currency: "USD"}, Benefits: []benefit.Spec{
		{Kind: "software", Name: "Windows Server 2025", ProductID: "windows-server-2025", Quantity: 16},
		{Kind: "cloud", Name: "Azure credits", CloudModel: "usage", Quantity: 1},
		{Kind: "cloud", Name: "Microsoft 365 E3", CloudModel: "license", Quantity: 5},
		{Kind: "visual_studio", Name: "Visual Studio Enterprise", Quantity: 2},
		{Kind: "technical", Name: "Partner advisory hours", Quantity: 1},
		{Kind: "go_to_market", Name: "Silver core", Quantity: 1, TermDays: 90},
	}}
}

// given folds events into a fresh package.
func given(events ...event.Event) *benefit.Package {
	var p benefit.Package
	for _, e := range events {
		p.Apply(e)
	}
	return &p
}

func bought(t *testing.T) benefit.PackagePurchased {
	t.Helper()
	e, err := benefit.Purchase(packageID, partnerID, order(), &ann.ID, "ann", t0, benefitID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// must(call)(t) is what call returned, failing t on its error.
func must[E any](e E, err error) func(*testing.T) E {
	return func(t *testing.T) E {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
}

func rule(t *testing.T, err error, code string) {
	t.Helper()
	var r *domain.RuleError
	if !errors.As(err, &r) || r.Code != code {
		t.Fatalf("got %v, want rule %s", err, code)
	}
}

func TestPurchase_validates_every_benefit_and_names_the_field(t *testing.T) {
	o := order()
	o.Benefits[0].Quantity = 0
	o.Benefits[1].CloudModel = ""
	o.Benefits[3].TermDays = 30
	o.Benefits = append(o.Benefits, benefit.Spec{Kind: "lunch", Name: "x", Quantity: 1})
	o.Price.Amount = "1.5e3"
	_, err := benefit.Purchase(packageID, partnerID, o, nil, "op", t0, benefitID)
	var verr *domain.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("%v", err)
	}
	want := map[string]bool{"benefits[0].quantity": true, "benefits[1].cloudModel": true, "benefits[3].termDays": true, "benefits[6].kind": true, "price.amount": true}
	for _, f := range verr.Fields {
		delete(want, f.Field)
	}
	if len(want) > 0 {
		t.Fatalf("not named: %v in %v", want, verr)
	}
	e := bought(t)
	if e.Benefits[5].TermDays != 90 || e.Benefits[0].TermDays != 0 || len(e.Benefits) != 6 {
		t.Fatalf("%+v", e.Benefits)
	}
}

func TestRetrieveKey_records_who_and_when_and_activates_once(t *testing.T) {
	p := given(bought(t))
	if _, err := p.RetrieveKey(software, &ann.ID, "", "macos", "ann", t0); err == nil {
		t.Fatal("a software key without a language")
	}
	events := must(p.RetrieveKey(software, &ann.ID, "ko-kr", "WINDOWS-X64", "ann", t0))(t)
	got := events[0].(benefit.ProductKeyRetrieved)
	if len(events) != 2 || got.Language != "ko-KR" || got.OS != "windows-x64" || *got.UserID != ann.ID || !got.RetrievedAt.Equal(t0) {
		t.Fatalf("%+v", events)
	}
	if a := events[1].(benefit.Activated); a.Kind != benefit.Software || a.ExpiresAt != nil {
		t.Fatalf("%+v", a)
	}
	p = given(bought(t), events[0], events[1])
	if again := must(p.RetrieveKey(software, &bo.ID, "en-US", "macos", "bo", t0.Add(time.Hour)))(t); len(again) != 1 {
		t.Fatalf("a second retrieval activates again: %+v", again)
	}
	// Cloud: license-based by a key, usage-based by assigning the company.
	if events := must(p.RetrieveKey(cloudLicense, nil, "", "", "op", t0))(t); len(events) != 2 {
		t.Fatalf("%+v", events)
	}
	_, err := p.RetrieveKey(cloudUsage, nil, "", "", "op", t0)
	rule(t, err, "wrong-benefit-kind")
	_, err = p.AssignCompany(cloudLicense, "op", t0)
	rule(t, err, "wrong-benefit-kind")
	company := must(p.AssignCompany(cloudUsage, "ann", t0))(t)
	if len(company) != 2 {
		t.Fatalf("%+v", company)
	}
	if again := must(given(bought(t), company[0], company[1]).AssignCompany(cloudUsage, "ann", t0))(t); again != nil {
		t.Fatalf("assigning the company twice: %+v", again)
	}
	if k := benefit.ProductKey([]byte("s"), packageID, software); len(k) != 29 || k != benefit.ProductKey([]byte("s"), packageID, software) ||
		k == benefit.ProductKey([]byte("s"), packageID, cloudLicense) {
		t.Fatalf("key %q", k)
	}
}

func TestAssignUser_never_above_the_quantity_and_reassigns_at_any_time(t *testing.T) {
	events := []event.Event{bought(t)}
	events = append(events, must(given(events...).AssignUser(vs, ann, "", "ann", t0, nil))(t)...)
	events = append(events, must(given(events...).AssignUser(vs, bo, "", "ann", t0, nil))(t)...)
	if len(events) != 4 {
		t.Fatalf("two assignments, one activation: %+v", events)
	}
	_, err := given(events...).AssignUser(vs, cy, "", "ann", t0, nil)
	rule(t, err, "quantity-exhausted")
	if _, err := given(events...).AssignUser(vs, ann, "", "ann", t0, nil); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("the same user twice: %v", err)
	}
	if _, err := given(events...).AssignUser(vs, cy, "cy@home.example", "ann", t0, nil); err == nil {
		t.Fatal("an alternate email for Visual Studio")
	}
	moved := must(given(events...).ReassignUser(vs, bo.ID, cy, "", "ann", t0, nil))(t)
	events = append(events, moved)
	if _, err := given(events...).ReassignUser(vs, bo.ID, bo, "", "ann", t0, nil); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("reassigning from someone who does not hold it: %v", err)
	}
	events = append(events, must(given(events...).UnassignUser(vs, ann.ID, "ann"))(t))
	if e := must(given(events...).AssignUser(vs, bo, "", "ann", t0, nil))(t); len(e) != 1 {
		t.Fatalf("a freed place: %+v", e)
	}
}

func TestAssignUser_technical_needs_an_alternate_email_other_than_the_sign_in_one(t *testing.T) {
	p := given(bought(t))
	_, err := p.AssignUser(technical, ann, " ANN@alpha.example ", "ann", t0, nil)
	rule(t, err, "alternate-email-is-sign-in-email")
	if _, err := p.AssignUser(technical, ann, "", "ann", t0, nil); err == nil {
		t.Fatal("no alternate email")
	}
	events := must(p.AssignUser(technical, ann, "ann.support@alpha-mail.example", "ann", t0, nil))(t)
	if a := events[0].(benefit.UserAssigned); a.AlternateEmail != "ann.support@alpha-mail.example" {
		t.Fatalf("%+v", a)
	}
}

func TestGoToMarket_needs_the_marketing_contact_and_runs_until_its_term(t *testing.T) {
	p := given(bought(t))
	_, err := p.ActivateGoToMarket(gtm, "ann", t0)
	rule(t, err, "marketing-contact-required")
	if _, err := p.SetMarketingContact(bo, "bo@alpha.example", "+82 2 1234 5678", "ko-KR", "ann"); err == nil {
		t.Fatal("the sign-in email as the alternate one")
	}
	if _, err := p.SetMarketingContact(bo, "bo@mail.example", "call me", "tlh", "ann"); err == nil || !strings.Contains(err.Error(), "phone") || !strings.Contains(err.Error(), "language") {
		t.Fatalf("bad phone and language: %v", err)
	}
	contact := must(p.SetMarketingContact(bo, "bo@mail.example", "+82 2 1234 5678", "ko-kr", "ann"))(t)
	p = given(bought(t), *contact)
	if again := must(p.SetMarketingContact(bo, "bo@mail.example", "+82 2 1234 5678", "ko-KR", "ann"))(t); again != nil {
		t.Fatalf("the same contact again: %+v", again)
	}
	_, err = p.ActivateGoToMarket(vs, "ann", t0)
	rule(t, err, "wrong-benefit-kind")
	a := must(p.ActivateGoToMarket(gtm, "ann", t0))(t)
	if !a.ExpiresAt.Equal(t0.AddDate(0, 0, 90)) {
		t.Fatalf("expires %v", a.ExpiresAt)
	}
	p = given(bought(t), *contact, *a)
	if again := must(p.ActivateGoToMarket(gtm, "ann", t0.Add(time.Hour)))(t); again != nil {
		t.Fatalf("activating an active benefit: %+v", again)
	}
	_, err = p.ActivateGoToMarket(gtm, "ann", t0.AddDate(0, 0, 90))
	rule(t, err, "benefit-expired")
}

func TestCancel_refunds_only_within_30_days_and_before_a_software_benefit_is_activated(t *testing.T) {
	p := given(bought(t))
	c := must(p.Cancel(true, "not needed", "ann", t0.Add(30*24*time.Hour-time.Microsecond)))(t)
	if !c.Refund || *c.RefundAmount != (subscription.Price{Amount: "475.00", Currency: "USD"}) {
		t.Fatalf("%+v", c)
	}
	_, err := p.Cancel(true, "", "ann", t0.Add(30*24*time.Hour))
	rule(t, err, "refund-window-closed")

	key := must(p.RetrieveKey(software, &ann.ID, "en-US", "macos", "ann", t0))(t)
	p = given(append([]event.Event{bought(t)}, key...)...)
	_, err = p.Cancel(true, "", "ann", t0.Add(time.Hour))
	rule(t, err, "software-benefit-activated")
	_, err = p.Cancel(true, "", "ann", t0.AddDate(0, 2, 0))
	rule(t, err, "refund-window-closed")
	if !strings.Contains(err.Error(), "Windows Server 2025") {
		t.Fatalf("both failed rules are named: %v", err)
	}
	// A license-based cloud key is no software benefit.
	cloud := must(given(bought(t)).RetrieveKey(cloudLicense, nil, "", "", "op", t0))(t)
	must(given(append([]event.Event{bought(t)}, cloud...)...).Cancel(true, "", "ann", t0.Add(time.Hour)))(t)

	c = must(p.Cancel(false, "", "ann", t0.AddDate(1, 0, 0)))(t)
	if c.Refund || c.RefundAmount != nil {
		t.Fatalf("%+v", c)
	}
	p = given(bought(t), c)
	_, err = p.Cancel(false, "", "ann", t0)
	rule(t, err, "package-cancelled")
	_, err = p.AssignUser(vs, ann, "", "ann", t0, nil)
	rule(t, err, "package-cancelled")
	_, err = p.RetrieveKey(software, nil, "en-US", "macos", "op", t0)
	rule(t, err, "package-cancelled")
}

func TestReassignUser_from_a_user_who_left_needs_a_free_place(t *testing.T) {
	left := func(u uuid.UUID) bool { return u == ann.ID }
	events := []event.Event{bought(t)}
	events = append(events, must(given(events...).AssignUser(vs, ann, "", "op", t0, nil))(t)...)
	events = append(events, must(given(events...).AssignUser(vs, bo, "", "op", t0, nil))(t)...)
	// Ann left: her place is free and goes to Cy.
	events = append(events, must(given(events...).AssignUser(vs, cy, "", "op", t0, left))(t)...)
	dee := partner.Member{ID: uuid.MustParse("0190a4c2-0000-7000-8000-0000000000c4"), Email: "dee@alpha.example"}
	_, err := given(events...).ReassignUser(vs, ann.ID, dee, "", "op", t0, left)
	rule(t, err, "quantity-exhausted")
	// A holder who stays hands their place on whatever the count.
	must(given(events...).ReassignUser(vs, bo.ID, dee, "", "op", t0, left))(t)
	events = append(events, must(given(events...).UnassignUser(vs, cy.ID, "op"))(t))
	must(given(events...).ReassignUser(vs, ann.ID, dee, "", "op", t0, left))(t)
}
