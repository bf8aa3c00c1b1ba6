package service_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// principals are the callers of the authorization table, in the order of
// its status columns.
var principals = []string{
	"anonymous", // no token
	"outsider",  // signed in, an active user of another account only
	"invitee",   // invited into the account as account_administrator, never accepted
	"account_administrator", "agreement_administrator", "user_administrator",
	"account_manager", "reports_viewer", "account_viewer", // active users holding that one role
	"operator",
}

// Rows of the table shared by several routes; columns as in principals.
const (
	//               anon out inv  AA  AgA UA  AM  RV  AV   op
	everyone      = "200 200 200  200 200 200 200 200 200  200"
	memberReads   = "401 404 404  200 200 200 200 200 200  200"
	domainAdmin   = "401 404 404  200 403 403 403 403 403  200"
	nobody        = "401 404 404  404 404 404 404 404 404  404"
	operatorOnly  = "401 403 403  403 403 403 403 403 403  200"
	operatorFinds = "401 403 403  403 403 403 403 403 403  404"
	// Partners' users (none of the principals) and operators.
	managerOperator = "401 404 404  403 403 403 403 403 403  200"
)

// authzTable declares, for every route the server mounts ("METHOD PATH" as
// Server.Routes lists it), how to call it and what each principal gets. A
// route may have further probes (a variant), e.g. granting a higher role.
var authzTable = map[string][]probe{
	"POST /v1/accounts": {{want: "401 403 403  403 403 403 403 403 403  201", req: func(f *fixture) request {
		return request{body: registration(f.fresh("acct"))}
	}}},
	"POST /v1/accounts/{accountId}/users": {
		{want: "401 404 404  201 201 201 403 403 403  201", req: inviting("account_viewer")},
		{variant: "granting account_administrator", want: "401 404 404  201 403 403 403 403 403  201", req: inviting("account_administrator")},
		{variant: "with an invalid body", want: "401 404 404  400 400 400 403 403 403  400", req: inviting("emperor")},
	},
	"POST /v1/accounts/{accountId}/users/{userId}/invitation/resend": {
		{want: "401 404 404  200 200 200 403 403 403  200", req: func(f *fixture) request { return user(f.pending()) }},
		// Who may not manage users hears so (403) whatever the user id.
		{variant: "user of another account", want: "401 404 404  404 404 404 403 403 403  404", req: func(f *fixture) request {
			return user(f.foreign())
		}},
	},
	"POST /v1/accounts/{accountId}/users/{userId}/erasure": {
		{want: operatorOnly, req: func(f *fixture) request { return erasing(f.pending()) }},
		{variant: "user of another account", want: operatorFinds, req: func(f *fixture) request { return erasing(f.foreign()) }},
	},
	"PUT /v1/accounts/{accountId}/users/{userId}/roles": {
		{want: "401 404 404  200 200 200 403 403 403  200", req: roles("reports_viewer")},
		{variant: "granting agreement_administrator", want: "401 404 404  200 200 403 403 403 403  200", req: roles("agreement_administrator")},
		{variant: "user of another account", want: nobody, req: func(f *fixture) request {
			r := user(f.foreign())
			r.body = map[string]any{"roles": []string{"reports_viewer"}}
			return r
		}},
		// Who may not see the account learns nothing of its users, whatever
		// the body: as inviting, the caller's rights come before the body.
		{variant: "with no roles", want: "401 404 404  400 400 400 403 403 403  400", req: roles()},
	},
	"PUT /v1/accounts/{accountId}/domains/{domain}": {{want: domainAdmin, req: func(f *fixture) request {
		return request{vars: map[string]string{"domain": f.fresh("d") + ".northwind.example"}}
	}}},
	"DELETE /v1/accounts/{accountId}/domains/{domain}": {{want: domainAdmin, req: func(f *fixture) request {
		d := f.fresh("d") + ".northwind.example"
		f.must(http.StatusOK, "PUT", "/v1/accounts/"+f.account+"/domains/"+d, f.op, nil)
		return request{vars: map[string]string{"domain": d}}
	}}},
	"POST /v1/invitations/accept": {{want: everyone, req: func(f *fixture) request {
		email := f.fresh("accept") + "@northwind.example"
		f.must(http.StatusCreated, "POST", "/v1/accounts/"+f.account+"/users", f.admin, invite(email, "account_viewer"))
		return request{body: map[string]any{"token": f.mailTokens(email, 1)[0]}}
	}}},
	"POST /v1/invitations/resend-request": {{want: "202 202 202  202 202 202 202 202 202  202", req: func(*fixture) request {
		return request{body: map[string]any{"email": managerEmail, "agreementNumber": "AG-77", "purchaseAccountNumber": "PA-78"}}
	}}},
	"GET /v1/accounts/{accountId}":       {{want: memberReads, req: nothingMore}},
	"GET /v1/accounts/{accountId}/users": {{want: memberReads, req: nothingMore}},
	"GET /v1/accounts/{accountId}/users/{userId}": {
		{want: memberReads, req: func(f *fixture) request { return user(f.member) }},
		{variant: "user of another account", want: nobody, req: func(f *fixture) request { return user(f.foreign()) }},
	},
	"GET /v1/me":                 {{want: "401 200 200  200 200 200 200 200 200  200", req: nothingMore, check: onlyOwnAccounts}},
	"GET /v1/admin/projections":  {{want: operatorOnly, req: nothingMore}},
	"GET /v1/admin/dead-letters": {{want: operatorOnly, req: nothingMore}},
	// No such dead letter or correlation: the operator gets past
	// authorization to a 404.
	"POST /v1/admin/dead-letters/{projector}/{id}/retry": {{want: operatorFinds, req: func(f *fixture) request {
		r := deadLetter(f)
		r.body = nil // a retry takes no body
		return r
	}}},
	"POST /v1/admin/dead-letters/{projector}/{id}/skip": {{want: operatorFinds, req: deadLetter}},
	"GET /v1/audit/correlations/{id}": {{want: operatorFinds, req: func(*fixture) request {
		return request{vars: map[string]string{"id": "no-such-correlation"}}
	}}},
	"GET /v1/audit/events":           {{want: operatorOnly, req: nothingMore}},
	"GET /v1/audit/streams/{stream}": {{want: operatorOnly, req: accountStream}},
	"GET /v1/audit/streams/{stream}/as-of": {{want: operatorOnly, req: func(f *fixture) request {
		r := accountStream(f)
		r.query = "?revision=0"
		return r
	}}},
	"GET /healthz": {{want: everyone, req: nothingMore}},
	// Partners: the customer's principals are no partner's users.
	"POST /v1/partners": {{want: "401 403 403  403 403 403 403 403 403  201", req: func(f *fixture) request {
		return request{body: map[string]any{"name": f.fresh("P"), "admin": map[string]any{"email": f.fresh("a") + "@p.example", "firstName": "A", "lastName": "B"}}}
	}}},
	"POST /v1/partners/{partnerId}/users": {{want: partnerOperator("201"), req: func(f *fixture) request {
		return request{vars: map[string]string{"partnerId": f.partnerA},
			body: map[string]any{"email": f.fresh("u") + "@alpha.example", "firstName": "U", "lastName": "V", "roles": []string{"sales_agent"}}}
	}}},
	"PUT /v1/partners/{partnerId}/users/{userId}/roles": {{want: partnerOperator("200"), req: func(f *fixture) request {
		r := partnerUser(f)
		r.body = map[string]any{"roles": []string{"helpdesk_agent"}}
		return r
	}}},
	"DELETE /v1/partners/{partnerId}/users/{userId}": {{want: partnerOperator("200"), req: partnerUser}},
	"POST /v1/partners/{partnerId}/users/{userId}/erasure": {{want: operatorOnly, req: func(f *fixture) request {
		r := partnerUser(f)
		r.body = map[string]any{"reason": "verified request"}
		return r
	}}},
	"GET /v1/partners/{partnerId}":                                    {{want: partnerOperator("200"), req: partnerA}},
	"GET /v1/partners/{partnerId}/accounts":                           {{want: partnerOperator("200"), req: partnerA}},
	"GET /v1/partners/{partnerId}/accounts/{accountId}/subscriptions": {{want: partnerOperator("200"), req: partnerA}},
	"PUT /v1/accounts/{accountId}/partners/{partnerId}": {{want: operatorOnly, req: func(f *fixture) request {
		return request{vars: map[string]string{"partnerId": freshPartner(f)}}
	}}},
	"POST /v1/accounts/{accountId}/channel-partner-changes": {{want: operatorOnly, req: func(f *fixture) request {
		from := freshPartner(f)
		f.serve(f.account, from)
		return request{body: map[string]any{"fromPartnerId": from, "toPartnerId": freshPartner(f)}}
	}}},
	// The manager is a partner's (or an operator's) to act on: the
	// account's own users see the account, and lack the role.
	"PUT /v1/accounts/{accountId}/manager": {{want: managerOperator, req: freshManager}},
	"PUT /v1/accounts/{accountId}/manager/email": {{want: managerOperator, req: func(f *fixture) request {
		f.must(http.StatusOK, "PUT", "/v1/accounts/"+f.account+"/manager", f.op, freshManager(f).body)
		return request{body: map[string]any{"email": f.fresh("renamed") + "@northwind.example"}}
	}}},
	"GET /v1/accounts/{accountId}/partners":           {{want: memberReads, req: nothingMore}},
	"GET /v1/accounts/{accountId}/partner-visibility": {{want: memberReads, req: nothingMore}},
	"POST /v1/accounts/{accountId}/partner-visibility/grants": {{want: "401 404 404  201 403 403 403 403 403  201", req: func(f *fixture) request {
		return request{body: map[string]any{"granteePartnerId": f.partnerA, "sourcePartnerId": f.partnerB}}
	}}},
	"DELETE /v1/accounts/{accountId}/partner-visibility/grants/{granteeId}/{sourceId}": {{want: domainAdmin, req: func(f *fixture) request {
		f.must(http.StatusCreated, "POST", "/v1/accounts/"+f.account+"/partner-visibility/grants", f.op,
			map[string]any{"granteePartnerId": f.partnerB, "sourcePartnerId": f.partnerA})
		return request{vars: map[string]string{"granteeId": f.partnerB, "sourceId": f.partnerA}}
	}}},
	"POST /v1/accounts/{accountId}/subscriptions": {
		{want: sellers("201"), req: func(f *fixture) request { return request{body: purchase(f.fresh("s"))} }},
		{variant: "with an invalid body", want: sellers("400"), req: func(f *fixture) request {
			b := purchase(f.fresh("s"))
			b["totalLicenses"] = -5
			return request{body: b}
		}},
	},
	"GET /v1/accounts/{accountId}/subscriptions":                  {{want: orderReads, req: nothingMore}},
	"GET /v1/accounts/{accountId}/subscriptions/{subscriptionId}": {{want: orderReads, req: fixtureSubscription}},
	"PUT /v1/accounts/{accountId}/subscriptions/{subscriptionId}/total-licenses": {{want: sellers("200"), req: func(f *fixture) request {
		r := fixtureSubscription(f)
		r.body = map[string]any{"total": 100 + *f.seq}
		*f.seq++
		return r
	}}},
	"POST /v1/accounts/{accountId}/subscriptions/{subscriptionId}/cancel": {{want: sellers("200"), req: func(f *fixture) request {
		id, _ := f.order(f.account, f.admin, "", f.fresh("c"))
		return request{vars: map[string]string{"subscriptionId": id}, body: map[string]any{"reason": "other"}}
	}}},
	"GET /readyz":          {{want: everyone, req: nothingMore}},
	"GET /metrics":         {{want: everyone, req: nothingMore}},
	"GET /v1/openapi.json": {{want: everyone, req: nothingMore}},
}

// probe is one way to call a route; req builds the request afresh for each
// principal, so that one principal's success does not change what the next
// one meets.
type probe struct {
	variant string
	want    string // one status per principal, in the order of principals
	req     func(f *fixture) request
	// check, when set, looks further into a 200 answer.
	check func(t *testing.T, f *fixture, principal string, body map[string]any)
}

// request fills the path values besides {accountId}, which is always the
// account under test, and gives the body (nil: none).
type request struct {
	vars  map[string]string
	query string
	body  any
}

func nothingMore(*fixture) request { return request{} }

func user(id string) request { return request{vars: map[string]string{"userId": id}} }

func accountStream(f *fixture) request {
	return request{vars: map[string]string{"stream": "account-" + f.account}}
}

func deadLetter(*fixture) request {
	return request{vars: map[string]string{"projector": "users", "id": "987654"}, body: map[string]any{"reason": "authz probe"}}
}

func inviting(role string) func(f *fixture) request {
	return func(f *fixture) request {
		return request{body: invite(f.fresh("inv")+"@northwind.example", role)}
	}
}

// roles changes a fresh user's roles to these.
func roles(roles ...string) func(f *fixture) request {
	return func(f *fixture) request {
		r := user(f.pending())
		r.body = map[string]any{"roles": append([]string{}, roles...)}
		return r
	}
}

// registration is a valid POST /v1/accounts body, unique by n.
func registration(n string) map[string]any {
	manager := invite("manager-" + n + "@acme.example")
	delete(manager, "roles")
	return map[string]any{"name": "Acme " + n, "agreementNumber": "AG-" + n, "purchaseAccountNumber": "PA-" + n, "manager": manager}
}

// onlyOwnAccounts: /v1/me lists the accounts the caller is an active user
// of, and no other.
func onlyOwnAccounts(t *testing.T, f *fixture, principal string, body map[string]any) {
	var got []string
	for _, a := range body["accounts"].([]any) {
		got = append(got, a.(map[string]any)["accountId"].(string))
	}
	var want []string
	switch principal {
	case "outsider":
		want = []string{f.other}
	case "invitee", "operator":
	default:
		want = []string{f.account}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s sees accounts %v, want %v", principal, got, want)
	}
}

// fixture is the account under test with a user for each principal.
type fixture struct {
	*harness
	account, other string // the account under test, and the outsider's
	admin, op      string // tokens of the account's manager and an operator
	member         string // an active user of the account
	// Two partners serving the account, and a subscription it bought.
	partnerA, partnerB, subscription string
	tokens                           map[string]string
	clients                          map[string]*http.Client
	seq                              *int
}

func newFixture(t *testing.T) *fixture {
	h := start(t, options{})
	f := &fixture{harness: h, op: h.token("op-1", "ops@bizcenter.example", true), seq: new(int)}
	f.account, f.admin = h.registered()
	f.tokens = map[string]string{"operator": f.op}

	out := h.must(http.StatusCreated, "POST", "/v1/accounts", f.op, registration("out"))
	f.other = out["accountId"].(string)
	outsider := "manager-out@acme.example"
	acc := h.must(http.StatusOK, "POST", "/v1/invitations/accept", "", map[string]any{"token": h.mailTokens(outsider, 1)[0]})
	f.tokens["outsider"] = h.token("sub-outsider", outsider, false)
	h.must(http.StatusOK, "GET", "/v1/accounts/"+f.other+"?after="+acc["position"].(string), f.tokens["outsider"], nil)

	h.must(http.StatusCreated, "POST", "/v1/accounts/"+f.account+"/users", f.admin, invite("invitee@northwind.example", "account_administrator"))
	f.tokens["invitee"] = h.token("sub-invitee", "invitee@northwind.example", false)
	for _, role := range principals[3:9] {
		f.member, f.tokens[role] = h.member(f.account, f.admin, role+"@northwind.example", role)
	}

	f.partnerA, _ = h.partner("Alpha", "ann@alpha.example")
	f.partnerB, _ = h.partner("Beta", "ben@beta.example")
	h.serve(f.account, f.partnerA)
	h.serve(f.account, f.partnerB)
	f.subscription, _ = h.order(f.account, f.admin, "", "fixture")

	// Each principal calls from its own loopback address, as distinct
	// clients would: the resend-request route limits requests per address.
	f.clients = map[string]*http.Client{}
	for i, p := range principals {
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(10+i))}}
		f.clients[p] = &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	}
	return f
}

// on is the fixture for a subtest: failures go to t.
func (f *fixture) on(t *testing.T) *fixture {
	h := *f.harness
	h.t = t
	g := *f
	g.harness = &h
	return &g
}

func (f *fixture) fresh(prefix string) string {
	*f.seq++
	return prefix + strconv.Itoa(*f.seq)
}

// pending invites a fresh user into the account and returns their id.
func (f *fixture) pending() string {
	email := f.fresh("user") + "@northwind.example"
	return f.must(http.StatusCreated, "POST", "/v1/accounts/"+f.account+"/users", f.admin, invite(email, "account_viewer"))["userId"].(string)
}

// foreign invites a fresh user into the outsider's account.
func (f *fixture) foreign() string {
	email := f.fresh("user") + "@other.example"
	return f.must(http.StatusCreated, "POST", "/v1/accounts/"+f.other+"/users", f.op, invite(email, "account_viewer"))["userId"].(string)
}

// send calls as a principal and decodes the answer.
func (f *fixture) send(principal, method, path string, body any) (int, map[string]any) {
	status, ctype, answer := f.call(principal, method, path, body)
	var out map[string]any
	if strings.Contains(ctype, "json") {
		_ = json.NewDecoder(bytes.NewReader(answer)).Decode(&out)
	}
	return status, out
}

// call calls as a principal and gives the answer as it came; an error
// answer must be a problem document.
func (f *fixture) call(principal, method, path string, body any) (status int, ctype string, answer []byte) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	status, ctype, answer = roundTrip(f.t, f.clients[principal], method, f.url+path, f.tokens[principal], raw)
	if err := problemIfError(status, ctype, answer); err != nil {
		f.t.Fatal(err)
	}
	return status, ctype, answer
}

func TestAuthz_every_route_answers_each_principal_as_declared(t *testing.T) {
	f := newFixture(t)
	mounted := map[string]bool{}
	for _, r := range f.svc.Server().Routes() {
		mounted[r.Method+" "+r.Path] = true
		if authzTable[r.Method+" "+r.Path] == nil {
			t.Errorf("%s %s is mounted but has no entry in authzTable", r.Method, r.Path)
		}
	}
	for route := range authzTable {
		if !mounted[route] {
			t.Errorf("authzTable has %s, which is not mounted", route)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Every answer a route gives is one its OpenAPI document lists, so
	// that a client generated from it has a case for each.
	_, doc := f.send("anonymous", "GET", "/v1/openapi.json", nil)
	// And its body is what the document says for that status, so that
	// such a client reads every field it gets.
	declared := func(method, pattern string, status int) map[string]any {
		path, _ := doc["paths"].(map[string]any)[pattern].(map[string]any)
		op, _ := path[strings.ToLower(method)].(map[string]any)
		responses, _ := op["responses"].(map[string]any)
		r, _ := responses[strconv.Itoa(status)].(map[string]any)
		return r
	}

	for _, route := range slices.Sorted(maps.Keys(authzTable)) {
		method, pattern, _ := strings.Cut(route, " ")
		for _, p := range authzTable[route] {
			want := strings.Fields(p.want)
			if len(want) != len(principals) {
				t.Fatalf("%s %s: %d statuses for %d principals", route, p.variant, len(want), len(principals))
			}
			t.Run(strings.TrimSpace(route+" "+p.variant), func(t *testing.T) {
				for i, principal := range principals {
					t.Run(principal, func(t *testing.T) {
						f := f.on(t)
						req := p.req(f)
						path := strings.ReplaceAll(pattern, "{accountId}", f.account)
						for name, v := range req.vars {
							path = strings.ReplaceAll(path, "{"+name+"}", v)
						}
						if strings.Contains(path, "{") {
							t.Fatalf("%s: a path value is missing", path)
						}
						if req.body != nil {
							sent, _ := json.Marshal(req.body)
							for _, d := range conforms(doc, requestSchema(doc, method, pattern), sent) {
								t.Errorf("%s %s takes a body its OpenAPI document does not describe: %s", method, pattern, d)
							}
						}
						status, ctype, raw := f.call(principal, method, path+req.query, req.body)
						var body map[string]any
						if strings.Contains(ctype, "json") {
							_ = json.Unmarshal(raw, &body)
						}
						if strconv.Itoa(status) != want[i] {
							t.Fatalf("%s %s as %s: %d, want %s: %v", method, path, principal, status, want[i], body)
						}
						response := declared(method, pattern, status)
						if response == nil {
							t.Fatalf("%s %s answers %d, which its OpenAPI document does not list", method, pattern, status)
						}
						content, _ := response["content"].(map[string]any)
						media := strings.TrimSpace(strings.Split(ctype, ";")[0])
						described, _ := content[media].(map[string]any)
						switch schema, _ := described["schema"].(map[string]any); {
						case schema != nil:
							for _, d := range conforms(doc, schema, raw) {
								t.Errorf("%s %s answers %d (%s) not as its OpenAPI document says: %s", method, pattern, status, media, d)
							}
						case strings.Contains(media, "json") && len(bytes.TrimSpace(raw)) > 0:
							t.Errorf("%s %s answers %d with a %s body its OpenAPI document does not describe: %.200s", method, pattern, status, media, raw)
						}
						if p.check != nil && status == http.StatusOK {
							p.check(t, f, principal, body)
						}
					})
				}
			})
		}
	}
}

// partnerOperator: only the partner's own users (none of the principals)
// and operators, who get ok.
func partnerOperator(ok string) string { return "401 404 404  404 404 404 404 404 404  " + ok }

// sellers: Account Administrators and Account Managers (self-service
// provisioning) and operators get ok.
func sellers(ok string) string {
	return "401 404 404  " + ok + " 403 403 " + ok + " 403 403  " + ok
}

func partnerA(f *fixture) request { return request{vars: map[string]string{"partnerId": f.partnerA}} }

func fixtureSubscription(f *fixture) request {
	return request{vars: map[string]string{"subscriptionId": f.subscription}}
}

// partnerUser adds a fresh sales agent to partner A.
func partnerUser(f *fixture) request {
	out := f.must(http.StatusCreated, "POST", "/v1/partners/"+f.partnerA+"/users", f.op,
		map[string]any{"email": f.fresh("pu") + "@alpha.example", "firstName": "P", "lastName": "U", "roles": []string{"sales_agent"}})
	return request{vars: map[string]string{"partnerId": f.partnerA, "userId": out["userId"].(string)}}
}

// freshManager designates a person never seen as the account's manager.
func freshManager(f *fixture) request {
	return request{body: person(f.fresh("manager") + "@northwind.example")}
}

func freshPartner(f *fixture) string {
	id, _ := f.partner(f.fresh("P"), f.fresh("admin")+"@p.example")
	return id
}

// erasing asks to erase a user's personal data.
func erasing(userID string) request {
	r := user(userID)
	r.body = map[string]any{"reason": "verified request"}
	return r
}
