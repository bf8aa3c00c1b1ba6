package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/service"
)

var secret = []byte("bench secret, at least 16 chars")

// node is one whole bizcenter process (service.New) served by httptest,
// with an HTTP client that keeps a connection per concurrent caller.
type node struct {
	svc     *service.Service
	srv     *httptest.Server
	client  *http.Client
	mailDir string
	// account and manager are set by register, bearer by register or
	// by a measure that signs in as someone else.
	account uuid.UUID
	manager uuid.UUID
	bearer  string
}

// startNode starts a node whose mail goes to the development sink, as
// `make run` sends it: a file a message, flushed to disk.
func startNode(ctx context.Context, dbURL, eventStoreURL string) (*node, error) {
	return startNodeMailing(ctx, dbURL, eventStoreURL, nil)
}

// relayed is mail as a deployed service sends it: to a relay on another
// machine, over a kept connection (mailer.SMTPSender), which costs this
// machine a message's rendering and little else. The development sink
// flushes a file a message to the disk PostgreSQL writes its log to, and
// on this machine that bounds the whole service's sustainable rate.
var relayed = mailer.SenderFunc(func(_ context.Context, m mailer.Message) error {
	_, err := m.Bytes()
	return err
})

// startNodeMailing starts a node whose mail goes to mail (nil: the
// development sink, in a directory of its own).
func startNodeMailing(ctx context.Context, dbURL, eventStoreURL string, mail mailer.Sender) (*node, error) {
	mailDir, err := os.MkdirTemp("", "bench-mail")
	if err != nil {
		return nil, err
	}
	if mail == nil {
		mail = mailer.FileSender{Dir: mailDir}
	}
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: dbURL, EventStoreURL: eventStoreURL, JWTSecret: secret, InvitationKey: invitationKey, Clock: clock.System{},
		Mail: mail, PublicURL: "http://bench", Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		os.RemoveAll(mailDir)
		return nil, err
	}
	srv := httptest.NewServer(svc.Handler())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: time.Minute}
	return &node{svc: svc, srv: srv, client: client, mailDir: mailDir}, nil
}

var invitationKey = []byte("bench invitation key")

func (n *node) Close() {
	n.client.CloseIdleConnections()
	n.srv.Close()
	n.svc.Close()
	os.RemoveAll(n.mailDir)
}

// register registers an account through the command handlers, accepts
// its manager's invitation, and signs the manager in.
func (n *node) register(ctx context.Context) error {
	reg, err := n.svc.Commands.RegisterAccount.Handle(ctx, commands.RegisterAccount{
		By: commands.Actor{Subject: "op", Operator: true}, Name: "Bench", AgreementNumber: "B-1", PurchaseAccountNumber: "P-1",
		Manager: user.Profile{Email: "admin@bench.example", FirstName: "A", LastName: "B", Language: "en", Country: "US"},
	})
	if err != nil {
		return err
	}
	tok, err := service.InvitationToken(ctx, n.svc.Store(), invitationKey, reg.ManagerUserID)
	if err != nil {
		return err
	}
	if _, err := n.svc.Commands.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{Token: tok}); err != nil {
		return err
	}
	n.account, n.manager = reg.AccountID, reg.ManagerUserID
	n.bearer, err = auth.Mint(secret, "admin", "admin@bench.example", false, time.Hour, time.Now())
	return err
}

// invited is the answer of InviteUser.
type invited struct {
	UserID   uuid.UUID `json:"userId"`
	Position string    `json:"position"`
}

// invite invites a user into the registered account over HTTP.
func (n *node) invite(email string) (invited, error) {
	body, _ := json.Marshal(map[string]any{"email": email, "firstName": "F", "lastName": "L",
		"language": "en", "country": "US", "roles": []string{"account_viewer"}})
	var out invited
	status, err := n.do("POST", "/v1/accounts/"+n.account.String()+"/users", bytes.NewReader(body), &out)
	if err == nil && status != http.StatusCreated {
		err = fmt.Errorf("invite %s: status %d", email, status)
	}
	return out, err
}

// get reads a path with the bearer and returns the status.
func (n *node) get(path string) (int, error) { return n.do("GET", path, nil, nil) }

// do sends a request with the bearer and decodes a 2xx JSON answer into
// out when out is not nil.
func (n *node) do(method, path string, body io.Reader, out any) (int, error) {
	req, err := http.NewRequest(method, n.srv.URL+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+n.bearer)
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode/100 == 2 {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
