package service_test

import (
	"bufio"
	"io"
	"net/http"
	"testing"
	"time"
)

// A feed that follows the log ends when the service shuts down, so that
// the shutdown is graceful (it waited for the feed, which never ends by
// itself, for its whole grace period and then failed) and the client,
// its stream ended, reconnects with Last-Event-ID to an instance still
// running.
func TestFeed_ends_when_the_service_shuts_down(t *testing.T) {
	h := startStoppable(t, nil)

	req, _ := http.NewRequest("GET", h.url+"/v1/feed", nil)
	req.Header.Set("Authorization", "Bearer "+h.token("op", "op@bizcenter.test", true))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("feed: %d", resp.StatusCode)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	ended := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, resp.Body); close(ended) }()

	if err := h.stop(); err != nil {
		t.Fatalf("shutdown with a feed open: %v after %s", err, time.Since(h.began).Round(time.Millisecond))
	}
	if d := time.Since(h.began); d > 5*time.Second {
		t.Fatalf("the shutdown waited %s for the open feed", d.Round(time.Millisecond))
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the feed's stream did not end")
	}
}
