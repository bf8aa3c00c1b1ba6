package service_test

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bizcenter/bizcenter/audit"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/eventstore/postgres"
	"github.com/bizcenter/bizcenter/internal/pgtest"
)

// streams reads every stream of a PostgreSQL store as comparable values,
// once everything stored is readable (ReadAll holds back events behind a
// transaction of another test still in flight on the same server).
func streams(t *testing.T, store eventstore.Store) map[string][]string {
	t.Helper()
	want, err := store.(*postgres.Store).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out map[string][]string
	waitFor(t, "the whole log to be readable", 20*time.Second, func() bool {
		out = readStreams(t, store)
		n := 0
		for _, evs := range out {
			n += len(evs)
		}
		return int64(n) == want
	})
	return out
}

func readStreams(t *testing.T, store eventstore.Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	at := eventstore.Start
	for {
		page, err := store.ReadAll(context.Background(), at, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		for _, e := range page {
			out[e.Stream] = append(out[e.Stream], e.ID.String()+" "+e.Type+" "+string(e.Data)+" "+string(e.Metadata))
		}
		at = page[len(page)-1].Position
	}
}

func TestExport_then_import_into_an_empty_store_reproduces_streams_and_read_models(t *testing.T) {
	h := start(t, options{})
	accountID, admin := h.registered()
	userID, _ := h.member(accountID, admin, "exp@northwind.example", "reports_viewer")
	last := h.must(http.StatusOK, "PUT", "/v1/accounts/"+accountID+"/users/"+userID+"/roles", admin, map[string]any{"roles": []string{"account_viewer"}})
	h.must(http.StatusOK, "GET", "/v1/accounts/"+accountID+"?after="+last["position"].(string), admin, nil)

	var buf bytes.Buffer
	n, err := audit.Export(context.Background(), h.svc.Store(), &buf, audit.ExportOptions{})
	if err != nil || n < 8 {
		t.Fatalf("exported %d events: %v", n, err)
	}
	target := pgtest.URL(t)
	pool, err := pgxpool.New(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	imported := postgres.New(pool, postgres.Config{})
	exported := buf.Bytes()
	if _, err := audit.Import(context.Background(), imported, bytes.NewReader(exported), nil); err != nil {
		t.Fatal(err)
	}
	// Importing again (an interrupted import resumed) changes nothing.
	if _, err := audit.Import(context.Background(), imported, bytes.NewReader(exported), nil); err != nil {
		t.Fatalf("second import: %v", err)
	}
	if got, want := streams(t, imported), streams(t, h.svc.Store()); !reflect.DeepEqual(got, want) {
		t.Fatalf("imported streams differ: %d streams, want %d", len(got), len(want))
	}

	// The export carries personal fields sealed; their keys travel
	// separately (a copy of personal_keys), else they read "[erased]".
	copyKeys(t, h.svc.Pool(), pool)

	// A service on the imported store builds the same read model.
	copyOf := start(t, options{dbURL: target})
	head, err := imported.ReadAll(context.Background(), eventstore.Start, 100000)
	if err != nil {
		t.Fatal(err)
	}
	caughtUp(t, copyOf.svc.Pool(), head[len(head)-1].Position, time.Minute)
	if got, want := userRows(t, copyOf.svc.Pool()), userRows(t, h.svc.Pool()); !reflect.DeepEqual(got, want) {
		t.Fatalf("read models differ:\n imported: %v\n original: %v", got, want)
	}

	// A filtered export keeps only the account's events.
	buf.Reset()
	m, err := audit.Export(context.Background(), h.svc.Store(), &buf, audit.ExportOptions{AccountID: uuidOf(t, accountID)})
	if err != nil || m == 0 || m >= n {
		t.Fatalf("account export: %d of %d events, %v", m, n, err)
	}
}

func copyKeys(t *testing.T, from, to *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	rows, err := from.Query(ctx, `SELECT subject_id, key, created_at, erased_at, erased_by, erased_reason FROM personal_keys`)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := to.CopyFrom(ctx, pgx.Identifier{"personal_keys"},
		[]string{"subject_id", "key", "created_at", "erased_at", "erased_by", "erased_reason"}, pgx.CopyFromRows(keys)); err != nil {
		t.Fatal(err)
	}
}
