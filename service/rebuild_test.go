package service_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/projections"
)

// usersNext is the users projector as a later release might declare it: the
// same read model under a new version number.
type usersNext struct{ projections.Users }

func (usersNext) Version() int { return projections.Users{}.Version() + 1 }

func TestRebuild_switches_readers_without_downtime_or_repeated_mail(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	users := "/v1/accounts/" + accountID + "/users"
	for i := range 20 {
		h.must(http.StatusCreated, "POST", users, admin, invite(fmt.Sprintf("p%d@northwind.example", i), "account_viewer"))
	}
	last := h.must(http.StatusCreated, "POST", users, admin, invite("last@northwind.example", "account_viewer"))
	before := h.must(http.StatusOK, "GET", users+"?limit=500&after="+last["position"].(string), admin, nil)
	mails := func() int { files, _ := filepath.Glob(filepath.Join(h.mailDir, "*.eml")); return len(files) }
	h.mailTokens("last@northwind.example", 1) // the mailer works in log order: all sent
	mailsBefore := mails()
	old, err := projections.ActiveBuild(context.Background(), h.svc.Pool(), "users")
	if err != nil {
		t.Fatal(err)
	}

	// Readers hammer the list while the rebuild runs, and writers go on.
	stop := make(chan struct{})
	var reads, failures atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, _ := h.call("GET", users+"?limit=5", admin, nil)
				reads.Add(1)
				if code != http.StatusOK {
					failures.Add(1)
				}
			}
		}()
	}
	var progressed atomic.Int64
	a, err := projections.Rebuild(context.Background(), h.svc.Pool(), h.svc.Store(), projections.Users{}, func(done, _ int64) { progressed.Store(done) })
	late := h.must(http.StatusCreated, "POST", users, admin, invite("during@northwind.example", "account_viewer"))
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if failures.Load() != 0 || reads.Load() == 0 {
		t.Fatalf("%d of %d reads failed during the rebuild", failures.Load(), reads.Load())
	}
	if a.Schema == old.Schema || progressed.Load() == 0 {
		t.Fatalf("rebuilt into %s (old %s), progress %d", a.Schema, old.Schema, progressed.Load())
	}
	var oldLeft bool
	_ = h.svc.Pool().QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, old.Schema).Scan(&oldLeft)
	if oldLeft {
		t.Fatalf("the old build %s was not dropped", old.Schema)
	}

	after := h.must(http.StatusOK, "GET", users+"?limit=500&after="+late["position"].(string), admin, nil)
	if got, want := len(after["items"].([]any)), len(before["items"].([]any))+1; got != want {
		t.Fatalf("after the rebuild %d users, want %d", got, want)
	}
	h.mailTokens("during@northwind.example", 1)
	if got := mails(); got != mailsBefore+1 {
		t.Fatalf("%d mails after the rebuild, want %d (only the new invitation's)", got, mailsBefore+1)
	}
}

func TestVerify_finds_a_row_the_events_do_not_explain(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("v@northwind.example", "account_viewer"))
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?after="+inv["position"].(string), admin, nil)
	var out bytes.Buffer
	diffs, err := projections.Verify(context.Background(), h.svc.Pool(), h.svc.Store(), projections.Users{}, &out, nil)
	if err != nil || diffs != 0 {
		t.Fatalf("a clean read model: %d diffs, %v\n%s", diffs, err, out.String())
	}
	a, _ := projections.ActiveBuild(context.Background(), h.svc.Pool(), "users")
	if _, err := h.svc.Pool().Exec(context.Background(), `UPDATE `+pgx.Identifier{a.Schema, "rm_users"}.Sanitize()+` SET first_name = 'Mallory' WHERE email = 'v@northwind.example'`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	diffs, err = projections.Verify(context.Background(), h.svc.Pool(), h.svc.Store(), projections.Users{}, &out, nil)
	if err != nil || diffs != 2 || !strings.Contains(out.String(), "Mallory") {
		t.Fatalf("a tampered row: %d diffs, %v\n%s", diffs, err, out.String())
	}
}

func TestNewVersion_is_built_in_the_background_then_switched_in(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	inv := h.must(http.StatusCreated, "POST", "/v1/accounts/"+accountID+"/users", admin, invite("n@northwind.example", "account_viewer"))
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users?after="+inv["position"].(string), admin, nil)

	engine, err := projections.NewEngine(projections.NewFeed(h.svc.Store(), h.svc.Pool(), discardLog()), discardLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := engine.Prepare(ctx, h.svc.Pool(), h.svc.Store(), discardLog(), usersNext{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		a, err := projections.ActiveBuild(ctx, h.svc.Pool(), "users")
		if err == nil && a.Version == (usersNext{}).Version() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("version 2 never switched in (%+v, %v)", a, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	list := h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"/users", admin, nil)
	if statusOf(t, list, "n@northwind.example") != "pending" {
		t.Fatal("the new version lost a user")
	}
}
