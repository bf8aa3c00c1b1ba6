package service_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/eventstore"
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
	readable(t, h.svc.Store(), resent["position"].(string))

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
	readable(t, h.svc.Store(), resent["position"].(string))
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

// readable waits until ReadAll, and so Verify, reaches a position: they
// stop below the oldest transaction in flight in the whole cluster, which
// may be another test's.
func readable(t *testing.T, store eventstore.Store, position string) {
	t.Helper()
	pos, err := eventstore.ParsePosition(position)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		log, err := store.ReadAll(context.Background(), eventstore.Start, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) > 0 && !log[len(log)-1].Position.Less(pos) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log is not readable up to %s after 10s", pos)
		}
	}
}
