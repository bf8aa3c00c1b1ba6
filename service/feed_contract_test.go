package service_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/integration"
)

// Every integration type, as the commands record it through the API,
// streams as a CloudEvent valid against its published schema (decodeCE),
// and each aggregate's events come with growing sequences. The mapping
// test (integration/mapping_test.go) checks domain events made by hand;
// this one what real commands, the sweeper and the erasures append.
func TestFeed_every_type_made_by_real_commands_matches_its_schema(t *testing.T) {
	h := start(t, options{})
	op := h.token("op-1", "ops@bizcenter.example", true)
	accountID, admin := h.registered()
	acc := "/v1/accounts/" + accountID

	// The account's users: invited, resent, given roles, made manager (by
	// email, which is changed after), erased.
	mia := h.must(http.StatusCreated, "POST", acc+"/users", admin, invite("mia@northwind.example", "account_viewer"))["userId"].(string)
	h.must(http.StatusOK, "POST", acc+"/users/"+mia+"/invitation/resend", admin, nil)
	h.must(http.StatusOK, "PUT", acc+"/users/"+mia+"/roles", admin, map[string]any{"roles": []string{"account_viewer", "reports_viewer"}})
	h.must(http.StatusOK, "PUT", acc+"/manager", op, person("mia@northwind.example"))
	h.must(http.StatusOK, "PUT", acc+"/manager/email", op, map[string]any{"email": "mia.park@northwind.example"})
	leo := h.must(http.StatusCreated, "POST", acc+"/users", admin, invite("leo@northwind.example", "account_viewer"))["userId"].(string)
	h.must(http.StatusOK, "POST", acc+"/users/"+leo+"/erasure", op, map[string]any{"reason": "DSR-1"})
	h.must(http.StatusOK, "PUT", acc+"/domains/northwind.example", admin, nil)
	h.must(http.StatusOK, "DELETE", acc+"/domains/northwind.example", admin, nil)

	// Partners: their users, the accounts they serve, the sight of each
	// other's orders, a change of channel.
	p1, p1admin := h.partner("Fabrikam", "pat@fabrikam.example")
	p2, _ := h.partner("Contoso", "pat@contoso.example")
	agent, _ := h.partnerMember(p1, p1admin, "agent@fabrikam.example", "sales_agent")
	h.must(http.StatusOK, "PUT", "/v1/partners/"+p1+"/users/"+agent+"/roles", p1admin, map[string]any{"roles": []string{"sales_agent", "admin_agent"}})
	h.must(http.StatusOK, "DELETE", "/v1/partners/"+p1+"/users/"+agent, p1admin, nil)
	h.must(http.StatusOK, "POST", "/v1/partners/"+p1+"/users/"+agent+"/erasure", op, map[string]any{"reason": "DSR-2"})
	h.serve(accountID, p1)
	h.serve(accountID, p2)
	grants := acc + "/partner-visibility/grants"
	h.must(http.StatusCreated, "POST", grants, op, map[string]any{"granteePartnerId": p2, "sourcePartnerId": p1})
	h.must(http.StatusOK, "DELETE", grants+"/"+p2+"/"+p1, op, nil)

	// Orders: one a partner placed, changed and cancelled; one that
	// expires.
	sub, _ := h.order(accountID, op, p1, "Partner order")
	subs := acc + "/subscriptions/"
	h.must(http.StatusOK, "PUT", subs+sub+"/total-licenses", op, map[string]any{"total": 120})
	h.must(http.StatusOK, "POST", subs+sub+"/cancel", op, map[string]any{"reason": "other", "feedback": "Mia said so"})
	h.must(http.StatusOK, "POST", acc+"/channel-partner-changes", op, map[string]any{"fromPartnerId": p1, "toPartnerId": p2})
	_, _, invitationEnds := h.lateInvitation(accountID, admin)
	h.yearlySubscription(accountID, admin)
	h.clock.Set(time.Date(2027, 5, 1, 0, 1, 0, 0, time.UTC))
	if !invitationEnds.Before(h.clock.Now()) {
		t.Fatalf("the invitation ends %s, after the sweep", invitationEnds)
	}
	if _, err := h.svc.Sweeper.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}

	seen := map[string]bool{}
	last := map[string]int{}
	for _, e := range h.backlog(op, "?follow=false", "") {
		ce := decodeCE(t, e)
		seen[ce.Type] = true
		seq, err := strconv.Atoi(ce.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		if prev, ok := last[ce.Aggregate]; ok && seq <= prev {
			t.Errorf("%s %s: sequence %d after %d", ce.Aggregate, ce.Type, seq, prev)
		}
		last[ce.Aggregate] = seq
	}
	for _, typ := range integration.Types {
		if !seen[typ] {
			t.Errorf("no command made a %s: add one", typ)
		}
	}
}
