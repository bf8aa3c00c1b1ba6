package main

import "testing"

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

// OIDC_EMAILS_VERIFIED is true or false; anything else stops the start
// rather than leave unverified emails trusted, or not, by a typo.
func TestConfig_oidc_emails_verified(t *testing.T) {
	for value, ok := range map[string]bool{"": true, "true": true, "false": true, "yes": false, "TRUE": false} {
		if err := (config{OIDCEmailsVerified: value}).validateOIDC(); (err == nil) != ok {
			t.Errorf("%q: %v", value, err)
		}
	}
}
