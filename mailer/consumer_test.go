package mailer_test

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/domain/account"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/logbuf"
	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/projections"
)

var (
	tokenKey = []byte("test token key")
	epoch    = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
)

// harness runs the mailer end to end: a PostgreSQL event store, the feed
// and the projection engine, with a FileSender into a temporary directory.
type harness struct {
	t      *testing.T
	pool   *pgxpool.Pool
	store  *postgres.Store
	clock  *clock.Manual
	dir    string
	sender mailer.Sender
	log    *logbuf.Buffer // shown when a test fails
	stop   func()
	// stopping is the consumer's Stopping (nil: none).
	stopping chan struct{}
}

func newHarness(t *testing.T) *harness { return newHarnessOn(t, pgtest.Pool(t)) }

// newHarnessOn is a harness over the database of pool.
func newHarnessOn(t *testing.T, pool *pgxpool.Pool) *harness {
	h := &harness{t: t, clock: clock.NewManual(epoch), dir: t.TempDir(), log: &logbuf.Buffer{}, pool: pool}
	h.store = postgres.New(h.pool, postgres.Config{PollInterval: 10 * time.Millisecond})
	h.sender = mailer.FileSender{Dir: h.dir}
	t.Cleanup(func() {
		h.stopEngine()
		if t.Failed() {
			t.Logf("log:\n%s", h.log.String())
		}
	})
	return h
}

// start runs the engine with the mailer until stopEngine.
func (h *harness) start() {
	h.t.Helper()
	log := slog.New(slog.NewTextHandler(h.log, nil))
	feed := projections.NewFeed(h.store, h.pool, log)
	feed.RetryDelay = 10 * time.Millisecond
	eng, err := projections.NewEngine(feed, log)
	if err != nil {
		h.t.Fatal(err)
	}
	c := &mailer.Consumer{
		Pool: h.pool, Store: h.store, Sender: h.sender, TokenKey: tokenKey, Clock: h.clock,
		BaseURL: "https://bc.example", From: "Business Center <no-reply@bc.example>", Log: log,
		RetryDelay: time.Millisecond, StopGrace: 50 * time.Millisecond,
	}
	if h.stopping != nil {
		c.Stopping = h.stopping
	}
	if err := c.Validate(); err != nil {
		h.t.Fatal(err)
	}
	eng.AddConsumer(mailer.Name, c.Handle)
	eng.MovesBack(mailer.Name)
	// As the service runs it: a batch gathers what the feed reads within
	// 20 ms of its first event, so that a slow moment of the reader (the
	// race detector, a busy machine) does not cut the first batch short,
	// which the tests of the window's sizes would read as a small window.
	eng.Linger(mailer.Name, 20*time.Millisecond, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := eng.Run(ctx); err != nil {
			h.t.Errorf("engine: %v", err)
		}
	}()
	h.stop = func() { cancel(); <-done }
	select {
	case <-eng.Running():
	case <-time.After(10 * time.Second):
		h.t.Fatal("engine did not start")
	}
}

// replay runs the mailer over the whole log again, as after a lost
// checkpoint: mail_sent is kept. It returns once the mailer has passed
// the end of the log.
func (h *harness) replay() {
	h.t.Helper()
	h.stopEngine()
	if _, err := h.pool.Exec(context.Background(), `DELETE FROM projection_checkpoints WHERE name = $1`, mailer.Name); err != nil {
		h.t.Fatal(err)
	}
	h.start()
	h.settle()
}

func (h *harness) stopEngine() {
	if h.stop != nil {
		h.stop()
		h.stop = nil
	}
}

// append writes one event and returns its id and position.
func (h *harness) append(stream string, e event.Event) (uuid.UUID, eventstore.Position) {
	h.t.Helper()
	id := uuid.New()
	data, meta, err := event.Encode(e, event.Metadata{EventID: id, Actor: "system", CorrelationID: id.String(), OccurredAt: h.clock.Now()})
	if err != nil {
		h.t.Fatal(err)
	}
	res, err := h.store.Append(context.Background(), stream, eventstore.Any(),
		[]eventstore.EventData{{ID: id, Type: e.EventType(), Data: data, Metadata: meta}})
	if err != nil {
		h.t.Fatal(err)
	}
	return id, res.Position
}

func (h *harness) register(name string) uuid.UUID {
	id := uuid.New()
	h.append(account.Stream(id), account.Registered{AccountID: id, Name: name, AgreementNumber: "A-1", PurchaseAccountNumber: "P-1", ManagerUserID: uuid.New()})
	return id
}

// invite appends an invitation and returns it with its event id.
func (h *harness) invite(accountID uuid.UUID, language string, expiresAt time.Time) (user.Invited, uuid.UUID) {
	inv := uuid.New()
	e := user.Invited{
		UserID: uuid.New(), AccountID: accountID, Email: "minji@example.kr", FirstName: "민지", LastName: "김",
		Language: language, Country: "KR", Roles: []user.Role{user.AccountAdministrator},
		InvitationID: inv, TokenHash: user.HashSecret(user.InvitationSecret(tokenKey, inv)),
		InvitedBy: "system", SentAt: expiresAt.Add(-user.InvitationValidity), ExpiresAt: expiresAt,
	}
	id, _ := h.append(user.Stream(e.UserID), e)
	return e, id
}

// resent is a resend of a user's invitation whose token hash derives
// from key.
func resent(userID, accountID uuid.UUID, key []byte) user.InvitationResent {
	inv := uuid.New()
	return user.InvitationResent{
		UserID: userID, AccountID: accountID, InvitationID: inv,
		TokenHash: user.HashSecret(user.InvitationSecret(key, inv)),
		ResentBy:  "system", SentAt: epoch, ExpiresAt: epoch.Add(user.InvitationValidity),
	}
}

func (h *harness) files() []string {
	files, _ := filepath.Glob(filepath.Join(h.dir, "*.eml"))
	return files
}

// settle appends an event the mailer ignores and waits until the mailer
// has passed it and no claimed mail is still being sent: everything before
// it, sends included, is done. (A batch commits its checkpoint before its
// mails go out, so the checkpoint alone does not say the sends are over.)
func (h *harness) settle() {
	h.t.Helper()
	_, pos := h.append("test-marker-"+uuid.NewString(), account.Registered{AccountID: uuid.New(), Name: "marker"})
	eventually(h.t, "the mailer to pass "+pos.String()+" and finish its sends", func() bool {
		cp, err := projections.LoadCheckpoint(context.Background(), h.pool, mailer.Name)
		if err != nil || cp.Less(pos) {
			return false
		}
		sending, err := h.count(context.Background(), "pending")
		return err == nil && sending == 0
	})
}

// mails waits for exactly n .eml files and returns them in name order.
func (h *harness) mails(n int) []string {
	h.t.Helper()
	eventually(h.t, "mail files", func() bool { return len(h.files()) >= n })
	h.settle()
	files := h.files()
	if len(files) != n {
		h.t.Fatalf("%d mail files, want %d", len(files), n)
	}
	return files
}

func (h *harness) outcome(eventID uuid.UUID) string {
	var o string
	_ = h.pool.QueryRow(context.Background(), `SELECT outcome FROM mail_sent WHERE event_id = $1`, eventID).Scan(&o)
	return o
}

// outcomes counts the emails of mail_sent with the outcome.
func (h *harness) outcomes(outcome string) int {
	h.t.Helper()
	n, err := h.count(context.Background(), outcome)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// count counts the emails of mail_sent with the outcome, for a relay of
// the tests that looks at what is claimed as it sends ('pending': claimed
// and not yet recorded).
func (h *harness) count(ctx context.Context, outcome string) (int, error) {
	var n int
	err := h.pool.QueryRow(ctx, `SELECT count(*) FROM mail_sent WHERE outcome = $1`, outcome).Scan(&n)
	return n, err
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// invitationMail reads an .eml and returns its subject, Content-Language
// and token, checking the recipient.
func invitationMail(t *testing.T, path, wantTo string) (subject, lang, token string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, body := parse(t, raw)
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != wantTo {
		t.Fatalf("To %v (%v), want %s", to, err, wantTo)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if tok, ok := strings.CutPrefix(sc.Text(), "Invitation token: "); ok {
			token = tok
		}
	}
	if token == "" {
		t.Fatalf("no token line in\n%s", body)
	}
	return decoded(t, m.Header, "Subject"), m.Header.Get("Content-Language"), token
}

// checkToken asserts the token names the user and matches the event's hash.
func checkToken(t *testing.T, token string, userID uuid.UUID, tokenHash string) {
	t.Helper()
	id, secret, err := user.ParseToken(token)
	if err != nil || id != userID || user.HashSecret(secret) != tokenHash {
		t.Fatalf("token %q: user %s (want %s), err %v, hash matches %v", token, id, userID, err, user.HashSecret(secret) == tokenHash)
	}
}

func TestConsumer_mails_an_invitation_once_and_a_resend_again_but_not_on_replay(t *testing.T) {
	h := newHarness(t)
	h.start()
	acct := h.register("Contoso 코리아")
	inv, invitedID := h.invite(acct, "ko-KR", epoch.Add(user.InvitationValidity))

	files := h.mails(1)
	subject, lang, token := invitationMail(t, files[0], "minji@example.kr")
	if subject != "Contoso 코리아 비즈니스 센터에 초대되었습니다" || lang != "ko" {
		t.Errorf("subject %q, language %q", subject, lang)
	}
	checkToken(t, token, inv.UserID, inv.TokenHash)

	resend := resent(inv.UserID, acct, tokenKey)
	resentID, _ := h.append(user.Stream(inv.UserID), resend)
	files = h.mails(2)
	_, _, token2 := invitationMail(t, files[1], "minji@example.kr")
	if token2 == token {
		t.Error("the resend carries the old token")
	}
	checkToken(t, token2, inv.UserID, resend.TokenHash)

	// Replay: forget the checkpoint, keep mail_sent.
	h.replay()
	if n := len(h.files()); n != 2 {
		t.Fatalf("replay sent mail again: %d files", n)
	}
	if a, b := h.outcome(invitedID), h.outcome(resentID); a != "sent" || b != "sent" {
		t.Errorf("outcomes %q and %q, want sent", a, b)
	}
}

func TestConsumer_sends_nothing_for_expired_unknown_or_mis_keyed_invitations(t *testing.T) {
	h := newHarness(t)
	h.start()
	acct := h.register("Fabrikam")
	expired, expiredID := h.invite(acct, "en-US", epoch.Add(-time.Minute))
	misKeyedID, _ := h.append(user.Stream(expired.UserID), resent(expired.UserID, acct, []byte("another key")))
	stranger := uuid.New()
	unknownID, _ := h.append(user.Stream(stranger), resent(stranger, acct, tokenKey))
	h.settle()

	if n := len(h.files()); n != 0 {
		t.Fatalf("%d mails sent", n)
	}
	var email string
	if err := h.pool.QueryRow(context.Background(), `SELECT email FROM mail_recipients WHERE user_id = $1`, expired.UserID).Scan(&email); err != nil || email != expired.Email {
		t.Errorf("recipient of the expired invitation not recorded: %q, %v", email, err)
	}
	for id, want := range map[uuid.UUID]string{
		expiredID: "skipped: expired", unknownID: "skipped: unknown recipient",
		misKeyedID: "failed: the token key does not derive the event's token hash (wrong key?)",
	} {
		if got := h.outcome(id); got != want {
			t.Errorf("outcome %q, want %q", got, want)
		}
	}
	// Decided before, they are not skipped again over a replay, nor said
	// to be: the line read so for an email another instance had claimed
	// and was sending (mail soak).
	skips := strings.Count(h.log.String(), `msg="email not sent"`)
	h.replay()
	if again := strings.Count(h.log.String(), `msg="email not sent"`) - skips; again != 0 {
		t.Errorf("%d emails decided before said again to be not sent", again)
	}
}

func TestConsumer_mails_in_English_by_default(t *testing.T) {
	h := newHarness(t)
	h.start()
	inv, _ := h.invite(h.register("Fabrikam"), "fr-FR", epoch.Add(time.Hour))
	subject, lang, token := invitationMail(t, h.mails(1)[0], inv.Email)
	if subject != "You're invited to Fabrikam on the Business Center" || lang != "en" {
		t.Errorf("subject %q, language %q", subject, lang)
	}
	checkToken(t, token, inv.UserID, inv.TokenHash)
}

func TestConsumer_retries_a_failing_send_then_moves_on(t *testing.T) {
	h := newHarness(t)
	var tries atomic.Int32
	h.sender = mailer.SenderFunc(func(context.Context, mailer.Message) error {
		tries.Add(1)
		return errors.New("relay down")
	})
	h.start()
	_, eventID := h.invite(h.register("Fabrikam"), "en", epoch.Add(time.Hour))
	h.settle() // the feed went on past the failed mail
	if got := tries.Load(); got != 3 {
		t.Errorf("%d tries, want 3", got)
	}
	if got := h.outcome(eventID); !strings.HasPrefix(got, "failed: ") || !strings.Contains(got, "relay down") {
		t.Errorf("outcome %q", got)
	}
}

// An event the mailer cannot record (here a NUL in a name, which
// PostgreSQL refuses in text, written by hand: the API refuses it) is
// given up after a few tries, and the mail of the events after it goes
// on. It held up all mail until an operator moved the checkpoint.
func TestConsumer_gives_up_an_event_it_cannot_record_and_mails_on(t *testing.T) {
	h := newHarness(t)
	h.start()
	accountID := h.register("Fabrikam")
	inv := uuid.New()
	poisonID, _ := h.append(user.Stream(uuid.New()), user.Invited{
		UserID: uuid.New(), AccountID: accountID, Email: "nul@example.kr", FirstName: "N\x00L", LastName: "김",
		Language: "en", Roles: []user.Role{user.AccountAdministrator},
		InvitationID: inv, TokenHash: user.HashSecret(user.InvitationSecret(tokenKey, inv)),
		InvitedBy: "system", SentAt: epoch, ExpiresAt: epoch.Add(time.Hour),
	})
	_, goodID := h.invite(accountID, "en", epoch.Add(time.Hour))
	h.mails(1)
	if got := h.outcome(goodID); got != "sent" {
		t.Errorf("the invitation after it: outcome %q, want sent", got)
	}
	if got := h.outcome(poisonID); !strings.HasPrefix(got, "failed: not recorded: ") || !strings.Contains(got, "0x00") {
		t.Errorf("the event not recorded: outcome %q", got)
	}
	if !strings.Contains(h.log.String(), "event not recorded; its mail is not sent") {
		t.Error("giving up was not logged")
	}
}

// A relay that took a message's data and hung up before it answered may
// have the message: the mailer does not send it again (the person would
// get two invitations), it records the send failed. It retried it as it
// retries a relay that is down.
func TestConsumer_does_not_send_again_a_message_the_relay_may_have(t *testing.T) {
	h := newHarness(t)
	relay := newRelay(t, nil, 0)
	relay.hangUpOnData = true
	smtp := &mailer.SMTPSender{Addr: relay.addr, From: "bc@example.com"}
	defer smtp.Close()
	h.sender = smtp
	h.start()
	_, eventID := h.invite(h.register("Fabrikam"), "en", epoch.Add(time.Hour))
	await(t, relay.got)
	h.settle()
	if n := relay.conns.Load(); n != 1 {
		t.Errorf("the message went to the relay %d times, want once", n)
	}
	if got := h.outcome(eventID); !strings.HasPrefix(got, "failed: ") {
		t.Errorf("outcome %q, want failed", got)
	}
}

// An invitation resent just before the person's erasure, which the mailer
// reaches after the erasure destroyed their key, is not mailed: the link
// in it answers 404 by then, and the person asked to be forgotten. It went
// to the address the mailer kept until the erasure's event came, as a
// grant's announcement no longer does.
func TestConsumer_does_not_mail_a_resend_to_a_person_whose_key_is_erased(t *testing.T) {
	h := newHarness(t)
	h.start()
	acct := h.register("Fabrikam")
	inv, _ := h.invite(acct, "en", epoch.Add(time.Hour))
	h.mails(1)
	h.stopEngine() // the mailer lags behind the erasure
	resentID, _ := h.append(user.Stream(inv.UserID), resent(inv.UserID, acct, tokenKey))
	if _, err := h.pool.Exec(context.Background(), `
		INSERT INTO personal_keys (subject_id, key, erased_at, erased_by) VALUES ($1, NULL, now(), 'op-1')
		ON CONFLICT (subject_id) DO UPDATE SET key = NULL, erased_at = now(), erased_by = 'op-1'`, inv.UserID); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.settle()
	if n := len(h.files()); n != 1 {
		t.Fatalf("%d mail files, want only the first invitation's", n)
	}
	if got := h.outcome(resentID); got != "skipped: personal data erased" {
		t.Errorf("outcome %q, want skipped: personal data erased", got)
	}
}
