package mailer_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/internal/pgtest"
	"github.com/bizcenter/bizcenter/mailer"
)

// commitAnswerLost loses the answer of the first COMMIT of a put-back
// (the transaction that marks claims waiting for the relay): the COMMIT
// goes, the server commits, and the client's read of the answer fails at
// once, as when the connection is cut right then.
type commitAnswerLost struct {
	mu      sync.Mutex
	putting *pgx.Conn // the connection of a put-back under way
	done    bool
}

func (l *commitAnswerLost) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.done:
	case strings.Contains(data.SQL, "UPDATE mail_sent SET outcome = $2 WHERE event_id = ANY($1) AND outcome = 'pending'"):
		l.putting = conn
	case conn == l.putting && strings.EqualFold(strings.TrimSpace(data.SQL), "commit"):
		l.done = true
		_ = conn.PgConn().Conn().SetReadDeadline(time.Now())
	}
	return ctx
}

func (l *commitAnswerLost) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A put-back whose COMMIT went through with its answer lost was made: the
// emails behind are the next leader's then, and this instance sends none
// of them. Taken as failed, they were sent on after the slow send, and
// the next leader, which had taken their claims over, mailed them too.
func TestConsumer_a_put_back_made_with_its_answer_lost_leaves_the_emails_behind(t *testing.T) {
	lost := &commitAnswerLost{}
	h := newHarnessOn(t, pgtest.TracedPool(t, lost))
	const n = 3 * mailer.ClaimsPerCommit
	s := h.putBackBehindAHang(n, 1, false)
	lost.mu.Lock()
	made := lost.done
	lost.mu.Unlock()
	if !made {
		t.Fatal("the put-back's COMMIT was not cut")
	}
	h.handOverDuringTheHang(s, n)
}
