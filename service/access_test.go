package service_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// member invites someone with roles, accepts for them, and returns their
// user id and token.
func (h *harness) member(accountID, admin, email string, roles ...string) (string, string) {
	h.t.Helper()
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite(email, roles...))
	tok := h.mailTokens(email, 1)[0]
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+acc["position"].(string), admin, nil)
	return inv["userId"].(string), h.token("sub-"+email, email, false)
}

func TestChangeUserRoles_saves_the_whole_set_and_records_who(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	userID, _ := h.member(accountID, admin, "ria@northwind.example", "account_viewer")
	path := "/v1/accounts/" + accountID + "/users/" + userID
	out := h.must(http.StatusOK, "PUT", path+"/roles", admin, map[string]any{"roles": []string{"reports_viewer", "account_manager"}})
	if !reflect.DeepEqual(out["roles"], []any{"account_manager", "reports_viewer"}) {
		t.Fatalf("roles %v", out["roles"])
	}
	detail := h.must(http.StatusOK, "GET", path+"?after="+out["position"].(string), admin, nil)
	history := detail["history"].([]any)
	last := history[len(history)-1].(map[string]any)
	if last["kind"] != "roles_changed" || last["by"] != "nora" {
		t.Fatalf("history %v", history)
	}
	if !reflect.DeepEqual(detail["roles"], []any{"account_manager", "reports_viewer"}) {
		t.Fatalf("detail roles %v", detail["roles"])
	}
	code, body := h.call("PUT", path+"/roles", admin, map[string]any{"roles": []string{}})
	if code != http.StatusBadRequest || !namesField(body, "roles") {
		t.Fatalf("empty roles: %d %v", code, body)
	}
	// An unknown role is named by its place, as a value of the wrong type is.
	code, body = h.call("PUT", path+"/roles", admin, map[string]any{"roles": []string{"reports_viewer", "emperor"}})
	if code != http.StatusBadRequest || !namesField(body, "roles[1]") {
		t.Fatalf("an unknown role: %d %v", code, body)
	}
}

func TestChangeUserRoles_keeps_the_last_account_administrator(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	me := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?email=manager", admin, nil)["items"].([]any)[0].(map[string]any)["userId"].(string)
	demote := map[string]any{"roles": []string{"user_administrator"}}
	code, body := h.call("PUT", "/v1/accounts/"+accountID+"/users/"+me+"/roles", admin, demote)
	if code != http.StatusUnprocessableEntity || body["type"] != "https://bizcenter.dev/problems/last-account-administrator" {
		t.Fatalf("demoting the only administrator: %d %v", code, body)
	}

	// With a second active administrator, each tries to demote the other at
	// once: one wins, the other is refused, and one administrator remains.
	second, secondToken := h.member(accountID, admin, "second@northwind.example", "account_administrator")
	var wg sync.WaitGroup
	codes := make(chan int, 2)
	for _, c := range []struct{ token, target string }{{admin, second}, {secondToken, me}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := h.call("PUT", "/v1/accounts/"+accountID+"/users/"+c.target+"/roles", c.token, demote)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for c := range codes {
		got[c]++
	}
	// The loser is refused either as the last administrator (422) or,
	// when the winner demoted the loser first, for lacking the role (403).
	if got[200] != 1 || got[403]+got[422] != 1 {
		t.Fatalf("concurrent demotions answered %v, want one 200 and one refusal", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		admins := 0
		for _, tok := range []string{admin, secondToken} {
			code, list := h.call("GET", "/v1/accounts/"+accountID+"/users?role=account_administrator&status=active", tok, nil)
			if code == http.StatusOK {
				admins = len(list["items"].([]any))
				break
			}
		}
		if admins == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d active account administrators remain, want 1", admins)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestChangeUserRoles_nobody_touches_a_role_above_their_own(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	_, ua := h.member(accountID, admin, "ua@northwind.example", "user_administrator")
	other, _ := h.member(accountID, admin, "other@northwind.example", "account_administrator")
	target, _ := h.member(accountID, admin, "target@northwind.example", "account_viewer")
	users := "/v1/accounts/" + accountID + "/users/"
	if code, _ := h.call("PUT", users+target+"/roles", ua, map[string]any{"roles": []string{"account_administrator"}}); code != http.StatusForbidden {
		t.Fatalf("granting above own: %d", code)
	}
	if code, _ := h.call("PUT", users+other+"/roles", ua, map[string]any{"roles": []string{"account_viewer"}}); code != http.StatusForbidden {
		t.Fatalf("removing above own: %d", code)
	}
	h.must(http.StatusOK, "PUT", users+target+"/roles", ua, map[string]any{"roles": []string{"reports_viewer"}})
}

func TestResendRequest_answers_the_same_and_resends_only_on_a_full_match(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	h.must(http.StatusCreated, "POST", "/v1/accounts", op, map[string]any{
		"name": "Pending Co", "agreementNumber": "AG-9", "purchaseAccountNumber": "PA-9",
		"manager": map[string]any{"email": "pam@pending.example", "firstName": "Pam", "lastName": "Manager", "language": "en", "country": "US"},
	})
	h.mailTokens("pam@pending.example", 1)
	wrong := map[string]any{"email": "pam@pending.example", "agreementNumber": "AG-9", "purchaseAccountNumber": "PA-0"}
	right := map[string]any{"email": "PAM@pending.example", "agreementNumber": "AG-9", "purchaseAccountNumber": "PA-9"}
	codeWrong, bodyWrong := h.call("POST", "/v1/invitations/resend-request", "", wrong)
	codeRight, bodyRight := h.call("POST", "/v1/invitations/resend-request", "", right)
	if codeWrong != http.StatusAccepted || codeRight != http.StatusAccepted || !reflect.DeepEqual(bodyWrong, bodyRight) {
		t.Fatalf("answers differ: %d %v / %d %v", codeWrong, bodyWrong, codeRight, bodyRight)
	}
	tokens := h.mailTokens("pam@pending.example", 2)
	if len(tokens) != 2 || tokens[0] == tokens[1] {
		t.Fatalf("tokens after the matching request: %v", tokens)
	}
	h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tokens[1]})

	// Past five requests from one address: 429.
	limited := false
	for range 6 {
		if code, _ := h.call("POST", "/v1/invitations/resend-request", "", wrong); code == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Fatal("eight requests from one address were never limited")
	}
	if code, body := h.call("POST", "/v1/invitations/resend-request", "", map[string]any{"email": ""}); code != http.StatusBadRequest || !namesField(body, "agreementNumber") {
		t.Fatalf("missing fields: %d %v", code, body)
	}
}

func TestDomains_belong_to_one_account_and_flag_outside_invitations(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	domains := "/v1/accounts/" + accountID + "/domains/"
	out := h.must(http.StatusOK, "PUT", domains+"Northwind.Example", admin, nil)
	if !reflect.DeepEqual(out["domains"], []any{"northwind.example"}) {
		t.Fatalf("domains %v", out["domains"])
	}
	if code, body := h.call("PUT", domains+"not_a_domain", admin, nil); code != http.StatusBadRequest || !namesField(body, "domain") {
		t.Fatalf("bad domain: %d %v", code, body)
	}
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("guest@gmail.example", "account_viewer"))
	list := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?after="+inv["position"].(string), admin, nil)
	flags := map[string]bool{}
	for _, it := range list["items"].([]any) {
		u := it.(map[string]any)
		flags[u["email"].(string)] = u["outsideDomains"].(bool)
	}
	if !flags["guest@gmail.example"] || flags[managerEmail] {
		t.Fatalf("outside-domain flags %v", flags)
	}
	account := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+inv["position"].(string), admin, nil)
	if !reflect.DeepEqual(account["domains"], []any{"northwind.example"}) {
		t.Fatalf("account domains %v", account["domains"])
	}

	op := h.token("op-1", "ops@bizcenter.example", true)
	other := h.must(http.StatusCreated, "POST", "/v1/accounts", op, map[string]any{
		"name": "Other", "agreementNumber": "AG-2", "purchaseAccountNumber": "PA-2",
		"manager": map[string]any{"email": "x@other.example", "firstName": "X", "lastName": "Y", "language": "en", "country": "US"},
	})
	if code, _ := h.call("PUT", "/v1/accounts/"+other["accountId"].(string)+"/domains/northwind.example", op, nil); code != http.StatusConflict {
		t.Fatalf("a second account taking the domain: %d, want 409", code)
	}
	out = h.must(http.StatusOK, "DELETE", domains+"northwind.example", admin, nil)
	if len(out["domains"].([]any)) != 0 {
		t.Fatalf("after delete: %v", out)
	}
	h.must(http.StatusOK, "PUT", "/v1/accounts/"+other["accountId"].(string)+"/domains/northwind.example", op, nil)
}

// A domain typed in Unicode is the domain in its xn-- form, for the
// account's domains and users' emails alike: they match, the mail goes to
// that form, and the two spellings are one email.
func TestDomains_and_emails_typed_in_Unicode_are_kept_in_their_xn_form(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	const ascii = "xn--vf4b131b.xn--3e0b707e" // 회사.한국
	out := h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/domains/"+url.PathEscape("회사.한국"), admin, nil)
	if !reflect.DeepEqual(out["domains"], []any{ascii}) {
		t.Fatalf("domains %v", out["domains"])
	}
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("jiwoo@회사.한국", "account_viewer"))
	got := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users/"+inv["userId"].(string)+"?after="+inv["position"].(string), admin, nil)
	if got["email"] != "jiwoo@"+ascii || got["outsideDomains"] != false {
		t.Fatalf("user %v", got)
	}
	h.mailTokens("jiwoo@"+ascii, 1)
	list := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?email="+url.QueryEscape("@회사.한국"), admin, nil)
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["email"] != "jiwoo@"+ascii {
		t.Fatalf("users whose email has @회사.한국: %v", items)
	}
	if code, _ := h.call("POST", "/v1/accounts/"+accountID+"/users", admin, invite("JiWoo@"+ascii, "account_viewer")); code != http.StatusConflict {
		t.Fatalf("the same email in its xn-- form: %d, want 409", code)
	}
	out = h.must(http.StatusOK, "DELETE", "/v1/accounts/"+accountID+"/domains/"+url.PathEscape("회사.한국"), admin, nil)
	if len(out["domains"].([]any)) != 0 {
		t.Fatalf("after delete: %v", out)
	}

	// A manager registered at a Unicode domain asks for their invitation
	// again, typing it in Unicode: the request meets the account's
	// manager, who is kept in xn-- form.
	op := h.token("op-1", "ops@bizcenter.example", true)
	h.must(http.StatusCreated, "POST", "/v1/accounts", op, map[string]any{
		"name": "회사", "agreementNumber": "AG-KR", "purchaseAccountNumber": "PA-KR",
		"manager": map[string]any{"email": "boss@회사.한국", "firstName": "B", "lastName": "K", "language": "ko", "country": "KR"},
	})
	h.mailTokens("boss@"+ascii, 1)
	h.must(http.StatusAccepted, "POST", "/v1/invitations/resend-request", "",
		map[string]any{"email": "Boss@회사.한국", "agreementNumber": "AG-KR", "purchaseAccountNumber": "PA-KR"})
	h.mailTokens("boss@"+ascii, 2)
}

func TestSweeper_records_each_expiry_once_even_when_run_concurrently(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("slow@northwind.example", "account_viewer"))
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?after="+inv["position"].(string), admin, nil)
	if n, err := h.svc.Sweeper.Sweep(context.Background()); err != nil || n != 0 {
		t.Fatalf("sweep before expiry: %d %v", n, err)
	}
	h.clock.Advance(61 * 24 * time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := h.svc.Sweeper.Sweep(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 1 {
		t.Fatalf("three concurrent sweeps appended %d expiries, want 1", total)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		detail := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users/"+inv["userId"].(string), admin, nil)
		history := detail["history"].([]any)
		if history[len(history)-1].(map[string]any)["kind"] == "expired" && detail["status"] == "expired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history never showed the expiry: %v", history)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, _ := h.svc.Sweeper.Sweep(context.Background()); n != 0 {
		t.Fatalf("a later sweep appended %d", n)
	}
}

func TestReads_of_another_account_are_not_found(t *testing.T) {
	h := start(t, options{})
	accountID, _ := h.registered()
	outsider := h.token("x", "someone@else.example", false)
	for _, path := range []string{"/v1/accounts/" + accountID, "/v1/accounts/" + accountID + "/users"} {
		if code, _ := h.call("GET", path, outsider, nil); code != http.StatusNotFound {
			t.Fatalf("GET %s by an outsider: %d, want 404", path, code)
		}
	}
}

// One address written in two Unicode forms (ë as one character, NFC, or as
// e and a combining diaeresis, NFD: what a paste from some systems gives,
// Hangul syllables likewise) looks the same on every screen and is one
// email: a second invitation of it is a 409, the search for it in either
// form finds the user, and a token naming it in the other form is that
// user. Compared byte for byte, the two forms made two users of the
// account with emails nobody can tell apart.
func TestEmails_in_two_Unicode_forms_are_one_email(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	const nfc, nfd = "zo\u00eb.kim@northwind.example", "zoe\u0308.kim@northwind.example"
	const hangulNFC, hangulNFD = "\uc9c0\uc6b0@northwind.example", "\u110c\u1175\u110b\u116e@northwind.example" // 지우
	inv := h.must(http.StatusCreated, "POST", users, admin, invite(nfc, "account_viewer"))
	h.must(http.StatusCreated, "POST", users, admin, invite(hangulNFC, "account_viewer"))
	for _, again := range []string{nfd, strings.ToUpper(nfd), hangulNFD} {
		if code, body := h.call("POST", users, admin, invite(again, "account_viewer")); code != http.StatusConflict {
			t.Fatalf("inviting %+q, the same email as a user's in another Unicode form: %d %v, want 409", again, code, body)
		}
	}
	h.must(http.StatusOK, "GET", users+"/"+inv["userId"].(string)+"?after="+inv["position"].(string), admin, nil)
	for _, q := range []string{"zoe\u0308", "ZOE\u0308", "zo\u00eb"} {
		list := h.must(http.StatusOK, "GET", users+"?email="+url.QueryEscape(q), admin, nil)
		if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["userId"] != inv["userId"] {
			t.Fatalf("?email=%+q: %v, want the user %s", q, items, nfc)
		}
	}

	// Accepted, the user signs in with a token whose email is the other form.
	tok := h.mailTokens(nfc, 1)[0]
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": tok})
	zoe := h.token("zoe", nfd, false)
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+acc["position"].(string), zoe, nil)
	if me := h.must(http.StatusOK, "GET", "/v1/me", zoe, nil); len(me["accounts"].([]any)) != 1 {
		t.Fatalf("me with the email in another form: %v", me)
	}
}

// The feed and the webhook routes know the caller as the read API does:
// by the email in its composed form (idn.FoldEmail). An Account
// Administrator whose token names them decomposed (ë as e and a combining
// mark, as some identity providers send it) is the same user: they list
// the account's webhooks and see its events in the feed, where the two
// routes compared the email only lower-cased and answered 404 and a feed
// without a single event of the account.
func TestFeed_and_webhooks_take_the_email_in_another_Unicode_form(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	const nfc, nfd = "zo\u00eb.kim@northwind.example", "zoe\u0308.kim@northwind.example"
	h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite(nfc, "account_administrator"))
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": h.mailTokens(nfc, 1)[0]})
	for _, email := range []string{nfc, nfd} {
		zoe := h.token("zoe", email, false)
		h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+acc["position"].(string), zoe, nil)
		h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/webhooks", zoe, nil)
		events := h.backlog(zoe, "?follow=false", "")
		if len(events) == 0 {
			t.Fatalf("the feed of the administrator named %+q holds no event of the account", email)
		}
		for _, e := range events {
			if ce := decodeCE(t, e); ce.AccountID != accountID {
				t.Fatalf("the feed of %+q holds %s of account %q", email, ce.Type, ce.AccountID)
			}
		}
	}
}
