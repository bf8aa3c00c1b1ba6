package service

import (
	"testing"
	"time"
)

// A DATABASE_URL without connect_timeout gets connectTimeout, so that a
// host that does not answer is reported within seconds; one that sets it
// keeps its own.
func TestPoolConfig_bounds_a_connection_attempt_unless_the_url_says(t *testing.T) {
	for url, want := range map[string]time.Duration{
		"postgres://u@db.example:5432/app":                   connectTimeout,
		"postgres://u@db.example:5432/app?connect_timeout=3": 3 * time.Second,
	} {
		cfg, err := poolConfig(url)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.ConnConfig.ConnectTimeout; got != want {
			t.Errorf("%s: connect timeout %s, want %s", url, got, want)
		}
	}
}
