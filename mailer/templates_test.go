package mailer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/mailer"
)

func TestLanguage_picks_the_primary_subtag_and_falls_back_to_English(t *testing.T) {
	for tag, want := range map[string]string{
		"ko": "ko", "ko-KR": "ko", "KO_kr": "ko", "en-GB": "en", "fr-FR": "en", "": "en", "kok-IN": "en",
	} {
		if got := mailer.Language(tag); got != want {
			t.Errorf("Language(%q) = %q, want %q", tag, got, want)
		}
	}
}

func TestRenderInvitation_in_each_language(t *testing.T) {
	inv := mailer.Invitation{
		AccountName: "Contoso", Token: "TOKEN123", AcceptURL: mailer.AcceptURL("https://bc.example/", "TOKEN123"),
		ExpiresAt: time.Date(2025, 5, 1, 15, 30, 0, 0, time.UTC),
	}
	cases := []struct {
		tag, first, last, subject string
		body                      []string
	}{
		{"en-US", "Ada", "Lovelace", "You're invited to Contoso on the Business Center",
			// A purchase account manager has no administrator to ask: they
			// request a new invitation themselves, or ask their partner
			// (seed 001).
			[]string{"Hello Ada Lovelace,", "May 1, 2025 at 15:30 UTC", "purchase account manager, request a new one", "or ask your partner"}},
		{"ko-KR", "길동", "홍", "Contoso 비즈니스 센터에 초대되었습니다",
			[]string{"홍길동님, 안녕하세요.", "2025년 5월 2일 00:30 (KST)에 만료됩니다", "구매 계정 관리자로 지정되신 경우에는", "파트너에게 문의해 주세요"}},
		{"ko", "Minji", "Kim", "Contoso 비즈니스 센터에 초대되었습니다", []string{"Minji Kim님, 안녕하세요."}},
	}
	for _, c := range cases {
		inv.FirstName, inv.LastName = c.first, c.last
		m, err := mailer.RenderInvitation(c.tag, inv)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != c.subject {
			t.Errorf("%s: subject %q, want %q", c.tag, m.Subject, c.subject)
		}
		for _, want := range append(c.body, "\nInvitation token: TOKEN123\n", "\nhttps://bc.example/accept?token=TOKEN123\n") {
			if !strings.Contains(m.TextBody, want) {
				t.Errorf("%s: body lacks %q:\n%s", c.tag, want, m.TextBody)
			}
		}
	}
}

func TestRenderInvitation_without_account_name(t *testing.T) {
	m, err := mailer.RenderInvitation("ko", mailer.Invitation{FirstName: "a", LastName: "b", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "비즈니스 센터에 초대되었습니다" {
		t.Errorf("subject %q", m.Subject)
	}
}

func TestRenderVisibilityGranted_in_each_language(t *testing.T) {
	acct, grantee := uuid.New(), uuid.New()
	v := mailer.VisibilityGranted{
		AccountID: acct, AccountName: "Contoso", PartnerID: grantee, PartnerName: "Adatum",
		SourcePartnerID: uuid.New(), SourcePartnerName: "Northwind",
		ViewURL:   mailer.SubscriptionsURL("https://bc.example/", grantee, acct),
		GrantedAt: time.Date(2025, 5, 1, 15, 30, 0, 0, time.UTC),
	}
	url := "https://bc.example/v1/partners/" + grantee.String() + "/accounts/" + acct.String() + "/subscriptions"
	cases := []struct {
		tag, first, last, subject string
		body                      []string
	}{
		{"en", "Ada", "Lovelace", "Contoso now lets you see the orders of Northwind",
			[]string{"Hello Ada Lovelace,", "On May 1, 2025 at 15:30 UTC, the customer account Contoso allowed Adatum to see",
				"that Northwind ordered", "global admin or admin agent of Adatum"}},
		{"ko-KR", "길동", "홍", "Contoso: 이제 Northwind의 주문을 볼 수 있습니다",
			[]string{"홍길동님, 안녕하세요.", "고객 계정 Contoso에서 2025년 5월 2일 00:30 (KST)에 Adatum이(가) Northwind이(가) 주문한"}},
	}
	for _, c := range cases {
		v.FirstName, v.LastName = c.first, c.last
		m, err := mailer.RenderVisibilityGranted(c.tag, v)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != c.subject {
			t.Errorf("%s: subject %q, want %q", c.tag, m.Subject, c.subject)
		}
		for _, want := range append(c.body, "\n"+url+"\n") {
			if !strings.Contains(m.TextBody, want) {
				t.Errorf("%s: body lacks %q:\n%s", c.tag, want, m.TextBody)
			}
		}
	}
}

func TestRenderVisibilityGranted_of_an_inherited_grant_names_the_former_partner(t *testing.T) {
	v := mailer.VisibilityGranted{
		AccountID: uuid.New(), AccountName: "Contoso", PartnerID: uuid.New(), PartnerName: "Adatum",
		SourcePartnerID: uuid.New(), SourcePartnerName: "Northwind", PreviousPartnerID: uuid.New(), PreviousPartnerName: "Litware",
		GrantedAt: time.Date(2025, 5, 1, 15, 30, 0, 0, time.UTC), FirstName: "Ada", LastName: "Lovelace",
	}
	for tag, want := range map[string][]string{
		"en": {"Hello Ada Lovelace,\n\nOn May 1, 2025 at 15:30 UTC, the customer account Contoso moved from Litware to Adatum.",
			"allowed Litware to see the licenses and subscriptions that Northwind ordered for it; Adatum now sees them in its place.\n\nTo view them"},
		"ko": {"채널 파트너가 2025년 5월 2일 00:30 (KST)에 Litware에서 Adatum(으)로 변경되었습니다.",
			"고객은 Litware이(가) Northwind이(가) 주문한 라이선스와 구독을 볼 수 있도록 허용했으며, 이제 Adatum이(가) 대신 볼 수 있습니다.\n\n아래 링크"},
	} {
		m, err := mailer.RenderVisibilityGranted(tag, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(m.TextBody, w) {
				t.Errorf("%s: body lacks %q:\n%s", tag, w, m.TextBody)
			}
		}
		if strings.Contains(m.TextBody, "allowed Adatum") || strings.Contains(m.TextBody, "에서 2025년") {
			t.Errorf("%s: an inherited grant reads as a grant to the new partner:\n%s", tag, m.TextBody)
		}
	}
}

func TestRenderVisibilityGranted_names_unknown_account_and_partners_by_id(t *testing.T) {
	v := mailer.VisibilityGranted{AccountID: uuid.New(), PartnerID: uuid.New(), SourcePartnerID: uuid.New()}
	m, err := mailer.RenderVisibilityGranted("en", v)
	if err != nil {
		t.Fatal(err)
	}
	if want := v.AccountID.String() + " now lets you see the orders of " + v.SourcePartnerID.String(); m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if !strings.Contains(m.TextBody, "allowed "+v.PartnerID.String()+" to see") {
		t.Errorf("body lacks the grantee's id:\n%s", m.TextBody)
	}
}

func TestRenderMarketingContact_in_each_language(t *testing.T) {
	partner := uuid.New()
	m := mailer.MarketingContact{
		PartnerID: partner, PartnerName: "Adatum", SignInEmail: "bo@adatum.example", ContactEmail: "bo@mail.example",
		Phone: "+82 2 1234 5678", BenefitsURL: mailer.BenefitsURL("https://bc.example/", partner, "go_to_market"),
		SetAt: time.Date(2025, 5, 1, 15, 30, 0, 0, time.UTC),
	}
	url := "\nhttps://bc.example/v1/partners/" + partner.String() + "/benefits?kind=go_to_market\n"
	cases := []struct {
		tag, first, last, subject string
		body                      []string
	}{
		{"en-US", "Bo", "Kim", "Adatum: you are the marketing contact for its go-to-market benefits",
			[]string{"Hello Bo Kim,", "On May 1, 2025 at 15:30 UTC, Adatum named you the marketing contact",
				"+82 2 1234 5678", "work account bo@adatum.example", "go to bo@mail.example"}},
		{"ko-KR", "보", "김", "Adatum: 시장 출시 혜택 마케팅 담당자 지정 안내",
			[]string{"김보님, 안녕하세요.", "2025년 5월 2일 00:30 (KST)에 Adatum에서", "bo@mail.example"}},
	}
	for _, c := range cases {
		m.FirstName, m.LastName = c.first, c.last
		msg, err := mailer.RenderMarketingContact(c.tag, m)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Subject != c.subject {
			t.Errorf("%s: subject %q, want %q", c.tag, msg.Subject, c.subject)
		}
		for _, want := range append(c.body, url) {
			if !strings.Contains(msg.TextBody, want) {
				t.Errorf("%s: body lacks %q:\n%s", c.tag, want, msg.TextBody)
			}
		}
	}
}
