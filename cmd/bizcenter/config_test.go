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
