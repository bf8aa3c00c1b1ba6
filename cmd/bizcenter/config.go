package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/bizcenter/bizcenter/clock"
	"github.com/bizcenter/bizcenter/httpapi/auth"
	"github.com/bizcenter/bizcenter/mailer"
	"github.com/bizcenter/bizcenter/publisher"
	"github.com/bizcenter/bizcenter/service"
	"github.com/bizcenter/bizcenter/webhooks"
)

// config is the process configuration: environment first, flags over it.
type config struct {
	DatabaseURL   string
	EventStoreURL string
	// MaxAppendSize is EVENTSTORE_MAX_APPEND_SIZE as given.
	MaxAppendSize string
	HTTPAddr      string
	PublicURL     string
	MailDir       string
	SMTPAddr      string
	SMTPFrom      string
	SMTPUsername  string
	SMTPPassword  string
	JWTSecret     string
	OIDCIssuer    string
	OIDCAudience  string
	// OIDCEmailsVerified is OIDC_EMAILS_VERIFIED: "true" when the issuer
	// puts only verified addresses in its tokens (see service.Config).
	OIDCEmailsVerified string
	InvitationKey      string
	Now                string
	NowOffset          string
	// Publish chooses the broker of integration events (docs/integration.md).
	Publish publisher.Config
	// OTLPEndpoint, when set, exports traces over OTLP/HTTP.
	OTLPEndpoint string
	// StallAfter is PROJECTION_STALL_AFTER as given: how long a projector
	// may sit still while the log moves before it counts as stalled.
	StallAfter string
	// WebhooksAllowPrivate is BIZCENTER_WEBHOOKS_ALLOW_PRIVATE: "true" lets
	// webhooks go to loopback and private addresses (webhooks.Policy), for
	// a receiver on this machine in a demo or test.
	WebhooksAllowPrivate string
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// loadConfig reads the environment and then the flags of a subcommand.
func loadConfig(fs *flag.FlagSet, args []string) (config, error) {
	c := config{
		DatabaseURL:        envOr("DATABASE_URL", ""),
		EventStoreURL:      envOr("EVENTSTORE_URL", ""),
		MaxAppendSize:      envOr("EVENTSTORE_MAX_APPEND_SIZE", ""),
		HTTPAddr:           envOr("HTTP_ADDR", ":8080"),
		PublicURL:          envOr("PUBLIC_URL", "http://localhost:8080"),
		MailDir:            envOr("MAIL_DIR", ".data/mail"),
		SMTPAddr:           envOr("SMTP_ADDR", ""),
		SMTPFrom:           envOr("SMTP_FROM", mailer.DefaultFrom),
		SMTPUsername:       envOr("SMTP_USERNAME", ""),
		SMTPPassword:       envOr("SMTP_PASSWORD", ""),
		JWTSecret:          envOr("BIZCENTER_JWT_SECRET", ""),
		OIDCIssuer:         envOr("OIDC_ISSUER", ""),
		OIDCAudience:       envOr("OIDC_AUDIENCE", ""),
		OIDCEmailsVerified: envOr("OIDC_EMAILS_VERIFIED", ""),
		InvitationKey:      envOr("BIZCENTER_INVITATION_KEY", ""),
		Now:                envOr("BIZCENTER_NOW", ""),
		NowOffset:          envOr("BIZCENTER_NOW_OFFSET", ""),
		Publish: publisher.Config{Transport: envOr("PUBLISH_TRANSPORT", ""), URL: envOr("PUBLISH_URL", ""),
			Topic: envOr("PUBLISH_TOPIC", "")},
		OTLPEndpoint:         envOr("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
		WebhooksAllowPrivate: envOr("BIZCENTER_WEBHOOKS_ALLOW_PRIVATE", ""),
		StallAfter:           envOr("PROJECTION_STALL_AFTER", ""),
	}
	// A flag replaces its variable only when given, and has no default
	// of its own: the flag package would print the variable's value as
	// the default on any mistyped flag (a URL's password among them).
	for _, f := range []struct {
		name, usage string
		dst         *string
	}{
		{"database-url", "PostgreSQL URL (default: DATABASE_URL)", &c.DatabaseURL},
		{"eventstore-url", "EventStoreDB URL (default: EVENTSTORE_URL; empty: events in PostgreSQL)", &c.EventStoreURL},
		{"http-addr", "listen address (default: HTTP_ADDR, else :8080)", &c.HTTPAddr},
		{"mail-dir", "directory for .eml files (default: MAIL_DIR, else .data/mail)", &c.MailDir},
		{"oidc-issuer", "also accept access tokens of this OpenID Connect issuer, with --oidc-audience (default: OIDC_ISSUER)", &c.OIDCIssuer},
		{"oidc-audience", "the aud those access tokens must carry, API audience or client id (default: OIDC_AUDIENCE)", &c.OIDCAudience},
	} {
		fs.Func(f.name, f.usage, func(v string) error { *f.dst = v; return nil })
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, nil
}

// validate joins every problem.
func (c config) validate() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required"))
	}
	if len(c.JWTSecret) < 16 {
		errs = append(errs, errors.New("BIZCENTER_JWT_SECRET is required, at least 16 characters"))
	}
	if err := c.validateOIDC(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.maxAppendSize(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.stallAfter(); err != nil {
		errs = append(errs, err)
	}
	if err := service.CheckEventStoreURL(c.EventStoreURL); err != nil {
		errs = append(errs, err)
	}
	// The accept links of invitations start with it: without a scheme
	// and a host, every one would be a link to nowhere.
	if !isHTTPURL(c.PublicURL) {
		errs = append(errs, fmt.Errorf("PUBLIC_URL is %q: an http:// or https:// URL, such as https://bizcenter.example.com", c.PublicURL))
	}
	// The exporter logs one it cannot parse and sends to localhost:4318
	// instead, and takes collector:4318 for a scheme: traces lost.
	if c.OTLPEndpoint != "" && !isHTTPURL(c.OTLPEndpoint) {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT is %q: an http:// or https:// URL, such as http://collector:4318", c.OTLPEndpoint))
	}
	// Else the mail meant for that relay would go to MAIL_DIR's files,
	// without a word.
	if c.SMTPAddr == "" && (c.SMTPUsername != "" || c.SMTPPassword != "") {
		errs = append(errs, errors.New("SMTP_USERNAME and SMTP_PASSWORD are for the relay at SMTP_ADDR, which is not set: mail would be written to MAIL_DIR"))
	}
	// Else every mail would fail at its sending, not the start.
	if c.SMTPAddr != "" {
		if host, port, err := net.SplitHostPort(c.SMTPAddr); err != nil || host == "" || port == "" {
			errs = append(errs, fmt.Errorf("SMTP_ADDR is %q: the relay's host:port, such as smtp.example.com:587", c.SMTPAddr))
		}
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); c.SMTPFrom != "" && err != nil {
		errs = append(errs, fmt.Errorf("SMTP_FROM is %q: an address, such as Business Center <no-reply@example.com>: %w", c.SMTPFrom, err))
	}
	if c.Now != "" && c.NowOffset != "" {
		errs = append(errs, errors.New("set BIZCENTER_NOW or BIZCENTER_NOW_OFFSET, not both"))
	}
	if _, err := c.clock(nil); err != nil {
		errs = append(errs, err)
	}
	if err := c.Publish.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("PUBLISH_TRANSPORT, PUBLISH_URL, PUBLISH_TOPIC: %w", err))
	}
	if _, err := c.webhooks(nil); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// isHTTPURL says whether s is an absolute http or https URL with a host.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// devSecret is the development JWT secret that the Makefile and
// docker-compose.yml publish.
const devSecret = "bizcenter-dev-secret-change-me"

// warnDevSecret says so in the log when serve runs with the published
// development secret: anyone can mint operator tokens with it. make run
// uses it, so it is not refused.
func (c config) warnDevSecret(log *slog.Logger) {
	if c.JWTSecret == devSecret && log != nil {
		log.Warn("BIZCENTER_JWT_SECRET is the published development secret: anyone can sign operator tokens with it; set a secret of your own anywhere but a development machine")
	}
}

// webhooks is where webhooks may go: the public internet only, unless
// BIZCENTER_WEBHOOKS_ALLOW_PRIVATE is true, which says so in the log. A
// value other than true or false stops the start rather than leave the
// service's network open to customers' webhooks, or not, by a typo.
func (c config) webhooks(log *slog.Logger) (webhooks.Policy, error) {
	switch c.WebhooksAllowPrivate {
	case "", "false":
		return webhooks.Policy{}, nil
	case "true":
		if log != nil {
			log.Warn("webhooks may go to loopback and private addresses (BIZCENTER_WEBHOOKS_ALLOW_PRIVATE): for demos and tests only")
		}
		return webhooks.Policy{AllowPrivate: true}, nil
	}
	return webhooks.Policy{}, fmt.Errorf("BIZCENTER_WEBHOOKS_ALLOW_PRIVATE is %q: true or false", c.WebhooksAllowPrivate)
}

// maxAppendSize is EVENTSTORE_MAX_APPEND_SIZE: the MaxAppendSize the
// EventStoreDB server is configured with, in bytes (0 when not set: the
// server's default, 1 MiB).
func (c config) maxAppendSize() (int, error) {
	if c.MaxAppendSize == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(c.MaxAppendSize)
	if err != nil || n < 64<<10 || n > 64<<20 {
		return 0, errors.New("EVENTSTORE_MAX_APPEND_SIZE: the server's MaxAppendSize in bytes, from 65536 to 67108864")
	}
	return n, nil
}

// stallAfter is PROJECTION_STALL_AFTER (0: the service's default, 30 s).
// Under a few seconds, a projector catching up a large batch or waiting
// for a lock would read as stalled, and /readyz would take the instance
// out of its load balancer for it.
func (c config) stallAfter() (time.Duration, error) {
	if c.StallAfter == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(c.StallAfter)
	if err != nil || d < 5*time.Second || d > 24*time.Hour {
		return 0, errors.New("PROJECTION_STALL_AFTER: a duration from 5s to 24h, such as 30s or 2m")
	}
	return d, nil
}

// validateOIDC wants both OIDC_ISSUER and OIDC_AUDIENCE or neither, and
// names every problem of the three settings.
func (c config) validateOIDC() error {
	var errs []error
	if c.OIDCEmailsVerified != "" && c.OIDCEmailsVerified != "true" && c.OIDCEmailsVerified != "false" {
		errs = append(errs, fmt.Errorf("OIDC_EMAILS_VERIFIED is %q: true or false", c.OIDCEmailsVerified))
	}
	switch {
	case c.OIDCIssuer == "" && c.OIDCAudience == "":
	case c.OIDCIssuer == "" || c.OIDCAudience == "":
		errs = append(errs, errors.New("set OIDC_ISSUER and OIDC_AUDIENCE together, or neither"))
	default:
		if err := (auth.OIDCConfig{Issuer: c.OIDCIssuer, Audience: c.OIDCAudience}).Validate(); err != nil {
			errs = append(errs, fmt.Errorf("OIDC_ISSUER, OIDC_AUDIENCE: %w", err))
		}
	}
	return errors.Join(errs...)
}

// clock is the system clock unless "now" is fixed or shifted, which is
// for demos and tests and says so in the log.
func (c config) clock(log *slog.Logger) (clock.Clock, error) {
	switch {
	case c.Now != "":
		t, err := time.Parse(time.RFC3339, c.Now)
		if err != nil {
			return nil, fmt.Errorf("BIZCENTER_NOW: %w", err)
		}
		if log != nil {
			log.Warn("the clock is fixed: time-based rules use this time, not the real one", "now", t)
		}
		return clock.NewManual(t), nil
	case c.NowOffset != "":
		d, err := time.ParseDuration(c.NowOffset)
		if err != nil {
			return nil, fmt.Errorf("BIZCENTER_NOW_OFFSET: %w", err)
		}
		if log != nil {
			log.Warn("the clock is shifted: time-based rules use a shifted time", "offset", d)
		}
		return clock.Offset{By: d}, nil
	}
	return clock.System{}, nil
}

// invitationKey is the configured key, or one derived from the JWT secret.
func (c config) invitationKey() []byte {
	if c.InvitationKey != "" {
		return []byte(c.InvitationKey)
	}
	m := hmac.New(sha256.New, []byte(c.JWTSecret))
	m.Write([]byte("bizcenter invitation key"))
	return m.Sum(nil)
}

// openTools connects an operator command to the database and the event
// store.
func (c config) openTools(ctx context.Context, log *slog.Logger) (*service.Tools, error) {
	if c.DatabaseURL == "" {
		return nil, errors.New("DATABASE_URL is required")
	}
	if err := service.CheckEventStoreURL(c.EventStoreURL); err != nil {
		return nil, err
	}
	maxAppend, err := c.maxAppendSize()
	if err != nil {
		return nil, err
	}
	return service.OpenTools(ctx, service.Config{DatabaseURL: c.DatabaseURL, EventStoreURL: c.EventStoreURL, MaxAppendSize: maxAppend, Log: log})
}
