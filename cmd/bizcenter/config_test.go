package main

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bizcenter/bizcenter/webhooks"
)

// EVENTSTORE_MAX_APPEND_SIZE is the server's MaxAppendSize in bytes,
// within what a server may be set to; anything else stops the start.
func TestConfig_max_append_size(t *testing.T) {
	for given, want := range map[string]int{"": 0, "1048576": 1 << 20, "4194304": 4 << 20} {
		if got, err := (config{MaxAppendSize: given}).maxAppendSize(); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", given, got, err, want)
		}
	}
	for _, bad := range []string{"1MiB", "-1", "1024", "1073741824"} {
		if _, err := (config{MaxAppendSize: bad}).maxAppendSize(); err == nil {
			t.Errorf("%q taken", bad)
		}
	}
}

// PROJECTION_STALL_AFTER is a duration from 5s to 24h (empty: the
// service's default); anything else stops the start, naming it.
func TestConfig_stall_after(t *testing.T) {
	for given, want := range map[string]time.Duration{"": 0, "30s": 30 * time.Second, "2m": 2 * time.Minute} {
		if got, err := (config{StallAfter: given}).stallAfter(); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", given, got, err, want)
		}
	}
	for _, bad := range []string{"30", "1s", "-1m", "48h", "soon"} {
		if _, err := (config{StallAfter: bad}).stallAfter(); err == nil || !strings.Contains(err.Error(), "PROJECTION_STALL_AFTER") {
			t.Errorf("%q: %v, want refused naming PROJECTION_STALL_AFTER", bad, err)
		}
	}
}

// OIDC_EMAILS_VERIFIED is true or false; anything else stops the start
// rather than leave unverified emails trusted, or not, by a typo.
func TestConfig_oidc_emails_verified(t *testing.T) {
	for value, ok := range map[string]bool{"": true, "true": true, "false": true, "yes": false, "TRUE": false} {
		if err := (config{OIDCEmailsVerified: value}).validateOIDC(); (err == nil) != ok {
			t.Errorf("%q: %v", value, err)
		}
	}
}

// BIZCENTER_WEBHOOKS_ALLOW_PRIVATE is true or false (webhooks to the public
// internet only when not set); anything else stops the start.
func TestConfig_webhooks_allow_private(t *testing.T) {
	for value, want := range map[string]bool{"": false, "false": false, "true": true} {
		if got, err := (config{WebhooksAllowPrivate: value}).webhooks(nil); err != nil || got != (webhooks.Policy{AllowPrivate: want}) {
			t.Errorf("%q: %+v, %v", value, got, err)
		}
	}
	for _, bad := range []string{"yes", "1", "TRUE"} {
		if _, err := (config{WebhooksAllowPrivate: bad}).webhooks(nil); err == nil {
			t.Errorf("%q taken", bad)
		}
	}
}

// serve says in its log when it runs with the development secret the
// Makefile publishes, with which anyone signs operator tokens; any other
// secret passes in silence.
func TestConfig_warns_of_the_published_development_secret(t *testing.T) {
	makefile, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(makefile), "DEV_SECRET ?= "+devSecret+"\n") {
		t.Fatalf("the Makefile's DEV_SECRET is not %q: keep devSecret the secret make run publishes", devSecret)
	}
	for secret, warned := range map[string]bool{devSecret: true, "a secret of our own, long enough": false} {
		var log bytes.Buffer
		config{JWTSecret: secret}.warnDevSecret(slog.New(slog.NewTextHandler(&log, nil)))
		if got := strings.Contains(log.String(), "published development secret"); got != warned {
			t.Errorf("secret %q: warned %v, want %v (%q)", secret, got, warned, log.String())
		}
	}
}

// A setting that only means something beside another one stops the start
// when given without it: PUBLISH_URL or PUBLISH_TOPIC without
// PUBLISH_TRANSPORT published nothing, and SMTP_USERNAME or SMTP_PASSWORD
// without SMTP_ADDR wrote every mail to MAIL_DIR, both without a word. An
// OIDC_ISSUER without its audience is named beside a bad
// OIDC_EMAILS_VERIFIED, where only the second was.
func TestConfig_names_a_setting_given_without_the_one_it_needs(t *testing.T) {
	base := config{DatabaseURL: "postgres://x/y", JWTSecret: strings.Repeat("s", 32), PublicURL: "http://localhost:8080"}
	for name, c := range map[string]func(*config){
		"PUBLISH_TRANSPORT": func(c *config) { c.Publish.URL = "nats://nats:4222" },
		"PUBLISH_TOPIC":     func(c *config) { c.Publish.Topic = "bizcenter" },
		"SMTP_ADDR":         func(c *config) { c.SMTPUsername, c.SMTPPassword = "mailer", "pw" },
		"OIDC_AUDIENCE":     func(c *config) { c.OIDCIssuer, c.OIDCEmailsVerified = "https://login.example.com", "yes" },
	} {
		given := base
		c(&given)
		if err := given.validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v; want it named", name, err)
		}
	}
	// With what they need, they are taken.
	good := base
	good.Publish.Transport, good.Publish.URL, good.Publish.Topic = "nats", "nats://nats:4222", "bizcenter"
	good.SMTPAddr, good.SMTPUsername, good.SMTPPassword = "smtp.example.com:587", "mailer", "pw"
	if err := good.validate(); err != nil {
		t.Errorf("%+v: %v", good, err)
	}
}
