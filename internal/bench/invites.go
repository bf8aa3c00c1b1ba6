// Package bench measures bizcenter and raw PostgreSQL in the same run;
// cmd/bench prints the figures, and service tests reuse them over the
// EventStoreDB protocol fake.
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/service"
)

const clients = 8

var secret = []byte("bench secret, at least 16 chars")

// Invites measures InviteUser through HTTP with 8 concurrent clients for
// d, on a service over dbURL (events there too, unless eventStoreURL is
// set). Projections do not run, so only the command path is measured.
func Invites(ctx context.Context, dbURL, eventStoreURL string, d time.Duration) (float64, error) {
	mailDir, _ := os.MkdirTemp("", "bench-mail")
	defer os.RemoveAll(mailDir)
	key := []byte("bench invitation key")
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: dbURL, EventStoreURL: eventStoreURL, JWTSecret: secret, InvitationKey: key, Clock: clock.System{},
		Mail: mailer.FileSender{Dir: mailDir}, PublicURL: "http://bench", Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return 0, err
	}
	defer svc.Close()
	reg, err := svc.Commands.RegisterAccount.Handle(ctx, commands.RegisterAccount{
		By: commands.Actor{Subject: "op", Operator: true}, Name: "Bench", AgreementNumber: "B-1", PurchaseAccountNumber: "P-1",
		Manager: user.Profile{Email: "admin@bench.example", FirstName: "A", LastName: "B", Language: "en", Country: "US"},
	})
	if err != nil {
		return 0, err
	}
	tok, err := service.InvitationToken(ctx, svc.Store(), key, reg.ManagerUserID)
	if err != nil {
		return 0, err
	}
	if _, err := svc.Commands.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{Token: tok}); err != nil {
		return 0, err
	}
	bearer, _ := auth.Mint(secret, "admin", "admin@bench.example", false, time.Hour, time.Now())
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	path := srv.URL + "/v1/accounts/" + reg.AccountID.String() + "/users"

	fmt.Fprintf(os.Stderr, "InviteUser over HTTP, %d clients, %v...\n", clients, d)
	var n atomic.Int64
	var failed atomic.Value
	run(d, func(worker, i int) bool {
		body, _ := json.Marshal(map[string]any{"email": fmt.Sprintf("u%d-%d@bench.example", worker, i), "firstName": "F", "lastName": "L",
			"language": "en", "country": "US", "roles": []string{"account_viewer"}})
		req, _ := http.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := srv.Client().Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			failed.Store(fmt.Sprintf("invite: %v %v", err, resp))
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		n.Add(1)
		return true
	})
	if f := failed.Load(); f != nil {
		return 0, fmt.Errorf("%s", f)
	}
	return float64(n.Load()) / d.Seconds(), nil
}

// InsertBaseline measures single-row INSERT autocommit of event-sized rows
// with 8 connections for d.
func InsertBaseline(ctx context.Context, dbURL string, d time.Duration) (float64, error) {
	fmt.Fprintf(os.Stderr, "raw single-row INSERT autocommit, %d connections, %v...\n", clients, d)
	p, err := Pool(ctx, dbURL, clients)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	if _, err := p.Exec(ctx, `CREATE TABLE bench_rows (id bigserial PRIMARY KEY, data bytea NOT NULL)`); err != nil {
		return 0, err
	}
	var rows atomic.Int64
	var failed atomic.Value
	run(d, func(int, int) bool {
		if _, err := p.Exec(ctx, `INSERT INTO bench_rows (data) VALUES ($1)`, eventSizedRow); err != nil {
			failed.Store(err.Error())
			return false
		}
		rows.Add(1)
		return true
	})
	if f := failed.Load(); f != nil {
		return 0, fmt.Errorf("%s", f)
	}
	return float64(rows.Load()) / d.Seconds(), nil
}

// run calls f from 8 goroutines for d, or until f returns false.
func run(d time.Duration, f func(worker, i int) bool) {
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				if !f(w, i) {
					return
				}
			}
		}()
	}
	wg.Wait()
}
