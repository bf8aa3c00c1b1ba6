package service

import (
	"context"
	"errors"
	"slices"
	"time"

	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/commands"
	"github.com/bizcenter/bizcenter/domain"
	"github.com/bizcenter/bizcenter/domain/user"
	"github.com/bizcenter/bizcenter/httpapi"
	"github.com/bizcenter/bizcenter/httpapi/kit"
	"github.com/bizcenter/bizcenter/projections"
	"github.com/bizcenter/bizcenter/publisher"
	"github.com/bizcenter/bizcenter/webhooks"
)

// IntegrationConfig is what downstream systems get: integration events on
// a broker (Publish; none when its Transport is empty), and the feed and
// the webhooks, which are always served.
type IntegrationConfig struct {
	Publish publisher.Config
	// Webhooks says where webhooks may go: by default only to the public
	// internet, at registration and at each delivery.
	Webhooks webhooks.Policy
}

// sideEffectLinger is how long the consumers with side effects (mail,
// webhooks, the publisher) let a live batch gather events: their
// transactions then no longer compete, one an event, with the read
// models' on which dashboards wait (see projections.Feed.Linger).
const sideEffectLinger = 20 * time.Millisecond

// wireIntegration adds the publisher to the engine when a broker is
// configured.
func (s *Service) wireIntegration(engine *projections.Engine) error {
	d := &webhooks.Dispatcher{Pool: s.pool, Orders: s.orders}
	engine.AddConsumer(webhooks.Name, d.Handle)
	engine.Linger(webhooks.Name, sideEffectLinger, projections.DecodesNone)
	s.Monitor.Topics = append(s.Monitor.Topics, webhooks.Name)
	s.Webhooks = &webhooks.Worker{Pool: s.pool, Log: s.cfg.Log, Policy: s.cfg.Integration.Webhooks}
	c := s.cfg.Integration.Publish
	if c.Transport == "" {
		return nil
	}
	db := stdlib.OpenDBFromPool(s.pool)
	out, err := publisher.Open(c, db, s.cfg.Log)
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("integration publisher: %w", err)
	}
	s.closers = append(s.closers, out.Close, db.Close)
	p := &publisher.Publisher{Pool: s.pool, Out: out, Topic: c.Topic, Log: s.cfg.Log, Orders: s.orders}
	if err := p.Validate(); err != nil {
		return err
	}
	engine.AddConsumer(publisher.Name, p.Handle)
	engine.Linger(publisher.Name, sideEffectLinger, projections.DecodesNone)
	s.Monitor.Topics = append(s.Monitor.Topics, publisher.Name)
	return nil
}

// integrationRoutes are the feed's (and the webhooks') routes.
func (s *Service) integrationRoutes(deps commands.Deps) []kit.Route {
	clk := s.cfg.Clock
	if clk == nil {
		clk = clock.System{}
	}
	return append(httpapi.FeedRoutes(s.store, s.pool, s.cfg.Log, s.pastHead, s.stopping, s.orders),
		webhooks.Routes(s.pool, clk, s.cfg.Log, s.cfg.Integration.Webhooks, webhookAdmins(deps))...)
}

// webhookAdmins decides who manages an account's webhooks from the
// events (commands.AccountRolesHandler), not from the users read model,
// which follows a demotion only once its projector caught up.
func webhookAdmins(deps commands.Deps) webhooks.Admins {
	roles := commands.AccountRolesHandler(deps)
	return func(ctx context.Context, account uuid.UUID, p kit.Principal) (bool, bool, error) {
		held, err := roles.Handle(ctx, commands.AccountRoles{By: commands.Actor{Subject: p.Subject, Email: p.Email, Operator: p.Operator}, AccountID: account})
		if errors.Is(err, domain.ErrNotFound) {
			return false, false, nil
		}
		if err != nil {
			return false, false, err
		}
		return true, slices.Contains(held, user.AccountAdministrator), nil
	}
}
