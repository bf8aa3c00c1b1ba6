package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain/subscription"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/service"
)

// LicensesResult is one AssignLicenses request of one product for many
// users, and its baseline.
type LicensesResult struct {
	Users int
	// Answer: the request sent -> its answer (every user assigned).
	Answer time.Duration
	// Visible: the request sent -> GET /v1/accounts/{id}/licenses?after=
	// (which waits for the licenses, partners and users read models)
	// answers with every license assigned.
	Visible time.Duration
	// Copy: a raw CopyFrom of as many assignment rows, in one transaction.
	Copy time.Duration
}

// AssignLicenses runs the whole service over dbURL, makes users active
// users of one account and buys as many licenses of Office 365 E3, then
// assigns them to all of them in one request.
func AssignLicenses(ctx context.Context, dbURL string, users int) (LicensesResult, error) {
	r := LicensesResult{Users: users}
	n, err := startNode(ctx, dbURL, "")
	if err != nil {
		return r, err
	}
	defer n.Close()
	defer n.runProjections(ctx)()
	if err := n.register(ctx); err != nil {
		return r, err
	}
	start := time.Now()
	ids, err := activeUsers(ctx, n, users)
	if err != nil {
		return r, err
	}
	admin := commands.Actor{Subject: "admin", Email: "admin@bench.example"}
	for _, p := range []struct {
		id    string
		total int
	}{{"office-e3", users}, {"visio-plan-2", 1}} {
		if _, err := n.svc.Commands.PurchaseSubscription.Handle(ctx, commands.PurchaseSubscription{By: admin, AccountID: n.account, Order: subscription.Order{
			ProductID: p.id, ProductName: p.id, Name: "bench " + p.id, ExpiresAt: time.Now().AddDate(1, 0, 0),
			Price: subscription.Price{Amount: "1.00", Currency: "USD"}, TotalLicenses: p.total,
		}}); err != nil {
			return r, err
		}
	}
	if err := caughtUp(ctx, n); err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "licenses: %d active users and the subscriptions in %v\n", users, time.Since(start).Round(time.Millisecond))
	// One small request first, so the measured one finds warm connections.
	if _, _, err := n.assignLicenses(ids[:1], "visio-plan-2"); err != nil {
		return r, err
	}

	fmt.Fprintf(os.Stderr, "licenses: AssignLicenses of office-e3 to %d users in one request...\n", users)
	mark := markCPU()
	sent := time.Now()
	assigned, pos, err := n.assignLicenses(ids, "office-e3")
	r.Answer = time.Since(sent)
	if err == nil && assigned != users {
		err = fmt.Errorf("assigned %d of %d", assigned, users)
	}
	if err != nil {
		return r, err
	}
	var ent struct {
		Products []entitledProduct `json:"products"`
	}
	status, err := n.do("GET", "/v1/accounts/"+n.account.String()+"/licenses?after="+pos, nil, &ent)
	r.Visible = time.Since(sent)
	mark.report("licenses: AssignLicenses")
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET licenses: status %d", status)
	}
	if err != nil {
		return r, err
	}
	if err := showsAssigned(ent.Products, "office-e3", users); err != nil {
		return r, err
	}
	r.Copy, err = copyAssignments(ctx, dbURL, users)
	return r, err
}

// entitledProduct is what the measure reads of a product's entitlements.
type entitledProduct struct {
	ProductID        string `json:"productId"`
	AssignedLicenses int    `json:"assignedLicenses"`
}

// showsAssigned checks that the entitlements show want licenses of
// product assigned. A product missing from them is not shown assigned:
// the check once passed then, and timed a read that showed nothing as
// the time to show it all.
func showsAssigned(products []entitledProduct, product string, want int) error {
	for _, p := range products {
		if p.ProductID == product {
			if p.AssignedLicenses != want {
				return fmt.Errorf("the entitlements show %d of %d %s licenses assigned", p.AssignedLicenses, want, product)
			}
			return nil
		}
	}
	return fmt.Errorf("the entitlements show no %s licenses", product)
}

// runProjections runs the node's projections (and the work following the
// events) until the returned stop is called.
func (n *node) runProjections(ctx context.Context) (stop func()) {
	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		_ = n.svc.RunProjections(runCtx)
	}()
	<-n.svc.ProjectionsRunning()
	return func() { cancel(); <-stopped }
}

// activeUsers invites users into the registered account and accepts for
// them, through the command handlers, 8 at a time.
func activeUsers(ctx context.Context, n *node, count int) ([]uuid.UUID, error) {
	ids := make([]uuid.UUID, count)
	admin := commands.Actor{Subject: "admin", Email: "admin@bench.example"}
	var failed firstErr
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			for i := w; i < count; i += clients {
				res, err := n.svc.Commands.InviteUser.Handle(ctx, commands.InviteUser{By: admin, AccountID: n.account, Profile: user.Profile{
					Email: fmt.Sprintf("l%d@bench.example", i), FirstName: "L", LastName: "U", Language: "en", Country: "US", Roles: []string{"account_viewer"}}})
				if err != nil {
					failed.set(err)
					return
				}
				tok, err := service.InvitationToken(ctx, n.svc.Store(), invitationKey, res.UserID)
				if err == nil {
					_, err = n.svc.Commands.AcceptInvitation.Handle(ctx, commands.AcceptInvitation{Token: tok})
				}
				if err != nil {
					failed.set(err)
					return
				}
				ids[i] = res.UserID
			}
		})
	}
	wg.Wait()
	return ids, failed.err
}

// assignLicenses posts AssignLicenses of one product and returns how many
// were assigned and the answer's position.
func (n *node) assignLicenses(ids []uuid.UUID, product string) (int, string, error) {
	body, _ := json.Marshal(map[string]any{"userIds": ids, "products": []map[string]any{{"productId": product}}})
	var out struct {
		Summary  map[string]int `json:"summary"`
		Position string         `json:"position"`
	}
	status, err := n.do("POST", "/v1/accounts/"+n.account.String()+"/licenses/assign", bytes.NewReader(body), &out)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("assign %s: status %d", product, status)
	}
	return out.Summary["assigned"], out.Position, err
}

// copyAssignments copies n rows shaped as rm_license_assignments rows in
// one transaction, and returns how long it took.
func copyAssignments(ctx context.Context, dbURL string, rows int) (time.Duration, error) {
	p, err := Pool(ctx, dbURL, 1)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	if _, err := p.Exec(ctx, `CREATE TABLE bench_assignments (subscription_id uuid, user_id uuid, account_id uuid, product_id text,
	  service_plans text[], assigned_at timestamptz, assigned_by text, PRIMARY KEY (subscription_id, user_id))`); err != nil {
		return 0, err
	}
	sub, account, plans, now := uuid.New(), uuid.New(), []string{"exchange-online-2", "sharepoint-online-2", "teams", "office-apps"}, time.Now()
	fmt.Fprintf(os.Stderr, "licenses: raw CopyFrom of %d assignment rows...\n", rows)
	start := time.Now()
	err = pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"bench_assignments"},
			[]string{"subscription_id", "user_id", "account_id", "product_id", "service_plans", "assigned_at", "assigned_by"},
			pgx.CopyFromSlice(rows, func(int) ([]any, error) {
				return []any{sub, uuid.New(), account, "office-e3", plans, now, "admin"}, nil
			}))
		return err
	})
	return time.Since(start), err
}
