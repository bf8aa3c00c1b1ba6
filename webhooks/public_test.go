package webhooks

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPublicOnly_refuses_every_address_but_public_unicast(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:443", "10.1.2.3:443", "172.16.0.1:443", "192.168.1.1:443", "169.254.169.254:80",
		"100.64.0.1:443", "0.0.0.0:443", "224.0.0.1:443", "[::1]:443", "[fc00::1]:443", "[fe80::1]:443", "[::ffff:127.0.0.1]:443",
		"[64:ff9b::a9fe:a9fe]:80", "[64:ff9b::7f00:1]:443", "[2002:7f00:1::]:443", "[::7f00:1]:443", "[fec0::1]:443",
		"0.1.2.3:443", "198.18.0.1:443", "240.0.0.1:443"} {
		if err := publicOnly("tcp", addr, nil); err == nil {
			t.Errorf("%s allowed", addr)
		}
	}
	for _, addr := range []string{"93.184.216.34:443", "8.8.8.8:443", "[2606:4700:4700::1111]:443", "[64:ff9b::808:808]:443", "[2002:808:808::1]:443"} {
		if err := publicOnly("tcp", addr, nil); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
}

// The worker's default client never reaches a server on this machine.
func TestDefaultClient_does_not_post_to_a_local_server(t *testing.T) {
	reached := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer srv.Close()
	resp, err := defaultClient.Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err == nil {
		resp.Body.Close()
	}
	if err == nil || reached || !strings.Contains(err.Error(), "not a public internet address") {
		t.Fatalf("posted to %s: %v (reached %v)", srv.URL, err, reached)
	}
}
