package service_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/bizcenter/bizcenter/audit"
)

func TestChain_an_edited_event_breaks_its_stream_and_no_other(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	inv := h.must(http.StatusCreated, "POST", users, admin, invite("chain@northwind.example", "reports_viewer"))
	h.must(http.StatusCreated, "POST", users, admin, invite("other@northwind.example", "account_administrator"))
	userID := inv["userId"].(string)
	resent := h.must(http.StatusOK, "POST", users+"/"+userID+"/invitation/resend", admin, nil)
	// Verify reads the log up to the store's safe horizon: wait until the
	// read side has seen the last append, so every stream is there.
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+resent["position"].(string), admin, nil)
	ctx := context.Background()

	var out bytes.Buffer
	broken, err := audit.Verify(ctx, h.svc.Store(), &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(broken) != 0 || !strings.HasPrefix(out.String(), "all ") {
		t.Fatalf("a clean log: %v\n%s", broken, out.String())
	}

	// Someone with database access changes the invitee's language in the
	// stored invitation (revision 0 of the user's stream; the resend is at
	// 1). Names are sealed (personal data), the language is not.
	stream := "user-" + userID
	tag, err := h.svc.Pool().Exec(ctx, `
		UPDATE events SET data = convert_to(replace(convert_from(data, 'UTF8'), '"language":"ko-KR"', '"language":"en-GB"'), 'UTF8')
		 WHERE stream = $1 AND revision = 0`, stream)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("tamper: %v, %d rows", err, tag.RowsAffected())
	}
	out.Reset()
	broken, err = audit.Verify(ctx, h.svc.Store(), &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(broken) != 1 || broken[0].Stream != stream || broken[0].Revision != 0 {
		t.Fatalf("want exactly %s@0 broken, got %v\n%s", stream, broken, out.String())
	}
	if !strings.Contains(out.String(), stream+"@0") || !strings.Contains(out.String(), "1 of ") {
		t.Fatalf("output:\n%s", out.String())
	}
}
