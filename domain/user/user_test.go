package user_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
)

var (
	key     = []byte("test key of invitations")
	t0      = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	userID  = uuid.MustParse("0190a4c2-0000-7000-8000-000000000001")
	account = uuid.MustParse("0190a4c2-0000-7000-8000-0000000000aa")
	invID   = uuid.MustParse("5f1c7e2a-1111-4222-8333-444455556666")
)

func profile() user.Profile {
	return user.Profile{Email: "  Ji-woo.Kim@Contoso.com ", FirstName: "Ji-woo", LastName: "Kim", Language: "ko-kr", Country: "kr", Roles: []string{"reports_viewer", "user_administrator", "reports_viewer"}}
}

func invitation(id uuid.UUID, at time.Time) user.Invitation {
	return user.Invitation{ID: id, TokenHash: user.HashSecret(user.InvitationSecret(key, id)), By: "admin", Now: at}
}

// given folds events into a fresh user.
func given(events ...event.Event) *user.User {
	var u user.User
	for _, e := range events {
		u.Apply(e)
	}
	return &u
}

func invited(t *testing.T) user.Invited {
	t.Helper()
	e, err := user.Invite(userID, account, profile(), invitation(invID, t0))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestInvite_normalizes_and_starts_sixty_days(t *testing.T) {
	e := invited(t)
	if e.Email != "Ji-woo.Kim@Contoso.com" || e.Language != "ko-KR" || e.Country != "KR" {
		t.Fatalf("email %q language %q country %q", e.Email, e.Language, e.Country)
	}
	if want := []user.Role{user.UserAdministrator, user.ReportsViewer}; !reflect.DeepEqual(e.Roles, want) {
		t.Fatalf("roles %v, want %v (deduplicated, by rank)", e.Roles, want)
	}
	if !e.ExpiresAt.Equal(t0.Add(60 * 24 * time.Hour)) {
		t.Fatalf("expires %v", e.ExpiresAt)
	}
}

func TestInvite_reports_every_invalid_field(t *testing.T) {
	_, err := user.Invite(userID, account, user.Profile{Email: "not an email", Language: "english!", Country: "XX", Roles: []string{"king"}}, invitation(invID, t0))
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("want a validation error, got %v", err)
	}
	got := map[string]bool{}
	for _, f := range v.Fields {
		got[f.Field] = true
	}
	for _, f := range []string{"email", "firstName", "lastName", "language", "country", "roles[0]"} {
		if !got[f] {
			t.Errorf("field %s not reported (got %v)", f, v.Fields)
		}
	}
}

func TestInvite_needs_a_role(t *testing.T) {
	p := profile()
	p.Roles = nil
	if _, err := user.Invite(userID, account, p, invitation(invID, t0)); err == nil {
		t.Fatal("an invitation without roles was accepted")
	}
}

func TestUser_status_expires_after_sixty_days_without_an_event(t *testing.T) {
	u := given(invited(t))
	if s := u.Status(t0.Add(60*24*time.Hour - time.Second)); s != user.Pending {
		t.Fatalf("one second before the end: %s", s)
	}
	if s := u.Status(t0.Add(60 * 24 * time.Hour)); s != user.Expired {
		t.Fatalf("at sixty days: %s", s)
	}
}

func TestAccept_activates_with_the_token_secret(t *testing.T) {
	u := given(invited(t))
	evs, err := u.Accept(user.InvitationSecret(key, invID), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []event.Event{user.InvitationAccepted{UserID: userID, AccountID: account, InvitationID: invID, AcceptedAt: t0.Add(time.Hour)}}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("events %+v, want %+v", evs, want)
	}
}

func TestAccept_is_harmless_to_repeat(t *testing.T) {
	u := given(invited(t), user.InvitationAccepted{UserID: userID, AccountID: account, InvitationID: invID, AcceptedAt: t0})
	evs, err := u.Accept(user.InvitationSecret(key, invID), t0.Add(90*24*time.Hour))
	if err != nil || len(evs) != 0 {
		t.Fatalf("repeat accept: events %v, error %v; want none", evs, err)
	}
}

func TestAccept_rejects_expired(t *testing.T) {
	u := given(invited(t))
	_, err := u.Accept(user.InvitationSecret(key, invID), t0.Add(60*24*time.Hour))
	if !domain.IsRule(err, "invitation-expired") {
		t.Fatalf("want invitation-expired, got %v", err)
	}
}

func TestAccept_rejects_a_wrong_or_replaced_token(t *testing.T) {
	newer := uuid.MustParse("5f1c7e2a-1111-4222-8333-999999999999")
	u := given(invited(t))
	resent, err := u.Resend(invitation(newer, t0.Add(24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	u.Apply(resent)
	if _, err := u.Accept(user.InvitationSecret(key, invID), t0.Add(48*time.Hour)); !domain.IsRule(err, "invitation-replaced") {
		t.Fatalf("the replaced token: want invitation-replaced, got %v", err)
	}
	if _, err := u.Accept([]byte("guess"), t0.Add(48*time.Hour)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a guessed secret: want not found, got %v", err)
	}
	evs, err := u.Accept(user.InvitationSecret(key, newer), t0.Add(48*time.Hour))
	if err != nil {
		t.Fatalf("the new token: %v", err)
	}
	u.Apply(evs[0])
	if evs, err := u.Accept(user.InvitationSecret(key, invID), t0.Add(49*time.Hour)); err != nil || len(evs) != 0 {
		t.Fatalf("the replaced token once active: %v %v, want nothing to do", evs, err)
	}
}

// A link sent to an address the user no longer has is not the user's:
// after a change of email, it is not found, not "replaced".
func TestAccept_does_not_find_a_token_sent_to_a_former_address(t *testing.T) {
	newer := uuid.MustParse("5f1c7e2a-1111-4222-8333-999999999998")
	u := given(invited(t), user.EmailChanged{UserID: userID, AccountID: account, Email: "ji-woo@fabrikam.example"})
	resent, err := u.Resend(invitation(newer, t0.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	u.Apply(resent)
	if _, err := u.Accept(user.InvitationSecret(key, invID), t0.Add(2*time.Hour)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the former address's token: want not found, got %v", err)
	}
	if _, err := u.Accept(user.InvitationSecret(key, newer), t0.Add(2*time.Hour)); err != nil {
		t.Fatalf("the new address's token: %v", err)
	}
}

func TestResend_starts_a_new_sixty_days_for_an_expired_user(t *testing.T) {
	u := given(invited(t))
	at := t0.Add(90 * 24 * time.Hour)
	resent, err := u.Resend(invitation(uuid.New(), at))
	if err != nil {
		t.Fatal(err)
	}
	u.Apply(resent)
	if s := u.Status(at.Add(59 * 24 * time.Hour)); s != user.Pending {
		t.Fatalf("59 days after the resend: %s", s)
	}
}

func TestResend_refuses_an_active_user(t *testing.T) {
	u := given(invited(t), user.InvitationAccepted{UserID: userID, AccountID: account, InvitationID: invID, AcceptedAt: t0})
	if _, err := u.Resend(invitation(uuid.New(), t0)); !domain.IsRule(err, "user-already-active") {
		t.Fatalf("want user-already-active, got %v", err)
	}
}

func TestToken_round_trips_and_rejects_garbage(t *testing.T) {
	secret := user.InvitationSecret(key, invID)
	id, got, err := user.ParseToken(user.FormatToken(userID, secret))
	if err != nil || id != userID || string(got) != string(secret) {
		t.Fatalf("round trip: %v %v %v", id, got, err)
	}
	if len(secret)*8 < 128 {
		t.Fatalf("secret has %d bits", len(secret)*8)
	}
	for _, bad := range []string{"", "abc", "!!!!", user.FormatToken(userID, secret)[:30]} {
		if _, _, err := user.ParseToken(bad); !errors.Is(err, user.ErrMalformedToken) {
			t.Errorf("ParseToken(%q): %v", bad, err)
		}
	}
}

func TestEvents_round_trip_through_the_registry(t *testing.T) {
	e := invited(t)
	data, meta, err := event.Encode(e, event.Metadata{EventID: uuid.New(), Actor: "admin", CorrelationID: "c1", OccurredAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	back, m, err := event.Decode(e.EventType(), data, meta)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, e) || m.SchemaVersion != 1 || m.Actor != "admin" {
		t.Fatalf("decoded %+v %+v", back, m)
	}
}

// Downstream systems read added and removed as arrays (docs/events.md):
// what did not change is [], not null.
func TestChangeRoles_records_empty_lists_not_null(t *testing.T) {
	u := given(invited(t))
	added, err := u.ChangeRoles([]string{"reports_viewer", "user_administrator", "account_viewer"}, "admin", t0)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := u.ChangeRoles([]string{"reports_viewer"}, "admin", t0)
	if err != nil {
		t.Fatal(err)
	}
	for data, want := range map[string]string{string(must(json.Marshal(added))): `"removed":[]`, string(must(json.Marshal(removed))): `"added":[]`} {
		if !strings.Contains(data, want) {
			t.Errorf("event %s, want %s", data, want)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
