package service_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/mailer"
)

// A kept answer replays for a day: a refusal kept under an Idempotency-Key
// must not carry the email it refused, or the erased person's address
// stays in idempotency_keys, and is replayed, after their erasure.
func TestErasure_leaves_no_email_in_kept_answers(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	partnerID, padmin := h.partner("Litware Kept", "lee.kept@litware.example")
	op := h.token("op-erase", "ops@bizcenter.example", true)
	const email, pemail = "kept.answer@northwind.example", "kept.partner@litware.example"
	users := "/v1/accounts/" + accountID + "/users"
	userID := h.must(http.StatusCreated, "POST", users, admin, invite(email, "reports_viewer"))["userId"].(string)
	memberID, _ := h.partnerMember(partnerID, padmin, pemail, "sales_agent")

	again := h.keyedCall(h.url, "POST", users, admin, "invite-again", invite(email, "reports_viewer"))
	added := map[string]any{"email": pemail, "firstName": "P", "lastName": "Kept", "roles": []string{"sales_agent"}}
	addedAgain := h.keyedCall(h.url, "POST", "/v1/partners/"+partnerID+"/users", padmin, "add-again", added)
	if again.status != http.StatusConflict || addedAgain.status != http.StatusConflict {
		t.Fatalf("the same email again: %d %s, and to the partner %d %s; want 409s", again.status, again.body, addedAgain.status, addedAgain.body)
	}

	h.must(http.StatusOK, "POST", users+"/"+userID+"/erasure", op, map[string]any{"reason": "verified request #31"})
	h.must(http.StatusOK, "POST", "/v1/partners/"+partnerID+"/users/"+memberID+"/erasure", op, map[string]any{"reason": "verified request #32"})
	waitFor(t, "the read models, the mailer and the audit model to see the erasures", 10*time.Second, func() bool {
		return len(scan(t, h.svc.Pool(), email, "rm_users", "rm_audit_events", "mail_recipients")) == 0 &&
			len(scan(t, h.svc.Pool(), pemail, "rm_partner_users", "rm_audit_events", "mail_partner_users")) == 0
	})
	for _, needle := range []string{email, pemail} {
		if where := scan(t, h.svc.Pool(), needle); len(where) != 0 {
			t.Errorf("%q still stored after the erasure: %v", needle, where)
		}
	}
	if replay := h.keyedCall(h.url, "POST", users, admin, "invite-again", invite(email, "reports_viewer")); strings.Contains(replay.body, email) {
		t.Errorf("the kept answer replayed after the erasure names the erased email: %d %s", replay.status, replay.body)
	}
	if replay := h.keyedCall(h.url, "POST", "/v1/partners/"+partnerID+"/users", padmin, "add-again", added); strings.Contains(replay.body, pemail) {
		t.Errorf("the kept answer replayed after the erasure names the erased email: %d %s", replay.status, replay.body)
	}
}

// A relay's refusal names the address it refused ("550 5.1.1 <…>:
// Recipient address rejected"): the mailer records why a mail failed in
// mail_sent, which it keeps for good, and no erasure reaches it. The
// outcome must not hold the recipient's address.
func TestErasure_leaves_no_email_in_failed_mail_outcomes(t *testing.T) {
	const email = "refused.rcpt@northwind.example"
	dir := t.TempDir()
	files := mailer.FileSender{Dir: dir}
	relay := mailer.SenderFunc(func(ctx context.Context, m mailer.Message) error {
		if strings.Contains(m.To, email) {
			return fmt.Errorf("rcpt to: 550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table", email)
		}
		return files.Send(ctx, m)
	})
	h := start(t, options{mail: relay})
	h.mailDir = dir
	accountID, admin := h.registered()
	op := h.token("op-erase", "ops@bizcenter.example", true)
	users := "/v1/accounts/" + accountID + "/users"
	userID := h.must(http.StatusCreated, "POST", users, admin, invite(email, "reports_viewer"))["userId"].(string)
	waitFor(t, "the refused mail to be recorded", 20*time.Second, func() bool {
		var n int
		_ = h.svc.Pool().QueryRow(context.Background(), `SELECT count(*) FROM mail_sent WHERE outcome LIKE 'failed: %'`).Scan(&n)
		return n == 1
	})
	h.must(http.StatusOK, "POST", users+"/"+userID+"/erasure", op, map[string]any{"reason": "verified request #33"})
	waitFor(t, "the mailer and the audit model to see the erasure", 10*time.Second, func() bool {
		return len(scan(t, h.svc.Pool(), email, "rm_users", "rm_audit_events", "mail_recipients")) == 0
	})
	if where := scan(t, h.svc.Pool(), email); len(where) != 0 {
		t.Fatalf("%q still stored after the erasure: %v", email, where)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.eml")); len(files) == 0 {
		t.Fatal("no mail went out at all")
	}
}

// An invitation of the email of a user whose erasure stopped half way is
// refused for now ("erasure is under way; try again in a few minutes"):
// that answer decided nothing, so it is not kept under the request's
// Idempotency-Key, and the retry it asks for, with the same key, runs
// once the sweeper has finished the erasure.
func TestErasure_under_way_refusal_is_not_kept_under_the_idempotency_key(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	const email = "under.way@northwind.example"
	h.halfErased(accountID, admin, email)
	users := "/v1/accounts/" + accountID + "/users"
	first := h.keyedCall(h.url, "POST", users, admin, "invite-under-way", invite(email, "reports_viewer"))
	if first.status != http.StatusConflict || !strings.Contains(first.body, "under way") {
		t.Fatalf("inviting the email while its user's erasure is under way: %d %s", first.status, first.body)
	}
	h.svc.Sweeper.ErasureGrace = time.Nanosecond
	if n, err := h.svc.Sweeper.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want the erasure finished", n, err)
	}
	retry := h.keyedCall(h.url, "POST", users, admin, "invite-under-way", invite(email, "reports_viewer"))
	if retry.status != http.StatusCreated || retry.replayed {
		t.Fatalf("the retry once the erasure is done: %d (replayed %v) %s; want the invitation made", retry.status, retry.replayed, retry.body)
	}
}
