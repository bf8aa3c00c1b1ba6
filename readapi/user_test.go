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
	// Out of order on purpose: the answer orders by time.
	f.exec(`INSERT INTO rm_user_history (user_id, entries)
	  SELECT $1, jsonb_agg(jsonb_build_object('kind', kind, 'at', at, 'by', 'sub-alice', 'invitation',
	           jsonb_build_object('id', gen_random_uuid(), 'sentAt', at, 'expiresAt', at + interval '60 days', 'sentBy', 'sub-alice')))
	    FROM (VALUES ('resent', $2::timestamptz), ('invited', $3::timestamptz)) AS v (kind, at)`, id, resent, invited)
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
	if len(got.History) != 2 || got.History[0].Kind != "invited" || !got.History[0].At.Equal(invited) || got.History[1].Kind != "resent" {
		t.Errorf("history %+v, want invited then resent", got.History)
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
