package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/google/uuid"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/event"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/eventstore"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/personal"
)

const (
	demoAgreement = "DEMO-0001"
	demoPurchase  = "PA-0001"
	demoAdmin     = "admin@contoso.example"
)

// SeedDemo creates the demo account, once, with users in every status: an
// active administrator, an active reports viewer, a pending user and one
// whose invitation expired. Past invitations are made through the same
// commands with a clock set back in time. It prints what to try.
func SeedDemo(ctx context.Context, s *Service, jwtSecret, invitationKey []byte, out io.Writer, addr string) error {
	now := s.cfg.Clock.Now()
	past := clock.NewManual(now.Add(-70 * 24 * time.Hour))
	deps := commands.Deps{Store: s.store, Clock: past, TokenKey: invitationKey, Personal: personal.Keys{DB: s.pool}}
	operator := commands.Actor{Subject: "demo-operator", Operator: true}
	admin := commands.Actor{Subject: "demo-admin", Email: demoAdmin}

	reg, err := commands.RegisterAccountHandler(deps).Handle(ctx, commands.RegisterAccount{
		By: operator, Name: "Contoso Ltd", AgreementNumber: demoAgreement, PurchaseAccountNumber: demoPurchase,
		Manager: user.Profile{Email: demoAdmin, FirstName: "Ada", LastName: "Admin", Language: "en-US", Country: "US"},
	})
	if errors.Is(err, domain.ErrConflict) {
		fmt.Fprintln(out, "demo account already there")
		return printTour(out, jwtSecret, addr, "")
	}
	if err != nil {
		return err
	}
	if err := acceptAs(ctx, deps, invitationKey, reg.ManagerUserID); err != nil {
		return err
	}
	invite := commands.InviteUserHandler(deps)
	people := []struct {
		at      time.Time
		profile user.Profile
		accept  bool
	}{
		{now.Add(-65 * 24 * time.Hour), user.Profile{Email: "mina.park@contoso.example", FirstName: "Mina", LastName: "Park", Language: "ko-KR", Country: "KR", Roles: []string{"account_viewer"}}, false},
		{now.Add(-2 * time.Hour), user.Profile{Email: "raj.patel@contoso.example", FirstName: "Raj", LastName: "Patel", Language: "en-GB", Country: "GB", Roles: []string{"reports_viewer"}}, true},
		{now.Add(-1 * time.Hour), user.Profile{Email: "lena.vogel@contoso.example", FirstName: "Lena", LastName: "Vogel", Language: "de-DE", Country: "DE", Roles: []string{"account_manager", "reports_viewer"}}, false},
	}
	for _, p := range people {
		past.Set(p.at)
		res, err := invite.Handle(ctx, commands.InviteUser{By: admin, AccountID: reg.AccountID, Profile: p.profile})
		if err != nil {
			return fmt.Errorf("invite %s: %w", p.profile.Email, err)
		}
		if p.accept {
			if err := acceptAs(ctx, deps, invitationKey, res.UserID); err != nil {
				return err
			}
		}
	}
	past.Set(now)
	if err := seedDemoPartners(ctx, deps, reg.AccountID, admin); err != nil {
		return err
	}
	fmt.Fprintf(out, "demo account created: Contoso Ltd (%s), served by two partners\n", reg.AccountID)
	return printTour(out, jwtSecret, addr, reg.AccountID.String())
}

func acceptAs(ctx context.Context, deps commands.Deps, key []byte, userID uuid.UUID) error {
	token, err := InvitationToken(ctx, deps.Store, key, userID)
	if err != nil {
		return err
	}
	_, err = commands.AcceptInvitationHandler(deps).Handle(ctx, commands.AcceptInvitation{Token: token})
	return err
}

// InvitationToken derives a user's current invitation token from their
// events, as the mailer does (for demos and tests).
func InvitationToken(ctx context.Context, store eventstore.Store, key []byte, userID uuid.UUID) (string, error) {
	recs, err := store.ReadStream(ctx, user.Stream(userID), eventstore.ReadStreamOptions{})
	if err != nil {
		return "", err
	}
	var invitation uuid.UUID
	for _, r := range recs {
		e, _, err := event.Decode(r.Type, r.Data, r.Metadata)
		if err != nil {
			return "", err
		}
		switch e := e.(type) {
		case user.Invited:
			invitation = e.InvitationID
		case user.InvitationResent:
			invitation = e.InvitationID
		}
	}
	return user.FormatToken(userID, user.InvitationSecret(key, invitation)), nil
}

func printTour(out io.Writer, jwtSecret []byte, addr, accountID string) error {
	admin, err := auth.Mint(jwtSecret, "demo-admin", demoAdmin, false, 24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	partnerAdmin, err := auth.Mint(jwtSecret, "demo-partner", demoPartners[0].admin, false, 24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	base := "http://" + localURL(addr)
	if accountID == "" {
		accountID = "$(curl -s " + base + "/v1/me -H \"Authorization: Bearer $TOKEN\" | sed 's/.*accountId\":\"\\([^\"]*\\).*/\\1/')"
	}
	fmt.Fprintf(out, `
Try it (the token is the demo administrator's, valid 24h; README.md has the whole tour):
  export TOKEN=%s
  export ACCOUNT=%s
  curl -s %s/v1/me -H "Authorization: Bearer $TOKEN"
  curl -s "%s/v1/accounts/$ACCOUNT/users?status=all" -H "Authorization: Bearer $TOKEN"
  curl -s "%s/v1/accounts/$ACCOUNT/users?status=expired" -H "Authorization: Bearer $TOKEN"
  curl -s "%s/v1/accounts/$ACCOUNT/subscriptions" -H "Authorization: Bearer $TOKEN"
  curl -s "%s/v1/accounts/$ACCOUNT/partner-visibility" -H "Authorization: Bearer $TOKEN"
  curl -s %s/v1/openapi.json
A partner's global admin (Fabrikam Resellers); /v1/me lists the partner:
  export PARTNER_TOKEN=%s
  curl -s %s/v1/me -H "Authorization: Bearer $PARTNER_TOKEN"
Invitation emails land in MAIL_DIR (default .data/mail) as .eml files, unless SMTP_ADDR sends them.
`, admin, accountID, base, base, base, base, base, base, partnerAdmin, base)
	return nil
}

// localURL turns a listen address into one a person can paste.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "::" || host == "0.0.0.0" {
		return "localhost:" + port
	}
	return net.JoinHostPort(host, port)
}
