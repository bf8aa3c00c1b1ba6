package readapi

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestGetUser_shows_profile_and_invitations_oldest_first(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	invited := t0.Add(-70 * 24 * time.Hour)
	id := f.user(acc, seedUser{email: "Grace@Contoso.example", first: "Grace", last: "Hopper", invitedAt: invited,
		roles: []string{"account_manager", "account_viewer"}})
	resent := t0.Add(-5 * 24 * time.Hour)
	for _, at := range []time.Time{resent, invited} {
		f.exec(`INSERT INTO rm_user_invitations (user_id, invitation_id, sent_at, expires_at, sent_by)
		  VALUES ($1, gen_random_uuid(), $2, $3, 'sub-alice')`, id, at, at.Add(invitationTTL))
	}
	var got UserDetail
	f.ok(admin, "/v1/accounts/"+acc.String()+"/users/"+id.String(), &got)
	if got.UserID != id.String() || got.Email != "Grace@Contoso.example" || got.Status != "expired" ||
		got.Language != "en" || got.Country != "GB" || !slices.Equal(got.Roles, []string{"account_manager", "account_viewer"}) {
		t.Errorf("got %+v", got)
	}
	if len(got.Invitations) != 2 || !got.Invitations[0].SentAt.Equal(invited) || !got.Invitations[1].SentAt.Equal(resent) ||
		!got.Invitations[1].ExpiresAt.Equal(resent.Add(invitationTTL)) || got.Invitations[0].By != "sub-alice" {
		t.Errorf("invitations %+v, want the first then the resend", got.Invitations)
	}
}

func TestGetUser_answers_no_invitations_as_an_empty_list(t *testing.T) {
	f := newFixture(t, time.Second)
	acc := contoso(f)
	var page UserPage
	f.ok(admin, usersPath(acc, url.Values{"status": {"active"}}), &page)
	var raw map[string]any
	f.ok(admin, "/v1/accounts/"+acc.String()+"/users/"+page.Items[0].UserID, &raw)
	if inv, ok := raw["invitations"].([]any); !ok || len(inv) != 0 || raw["activatedAt"] == nil {
		t.Errorf("got %v, want invitations [] and an activatedAt", raw)
	}
}
