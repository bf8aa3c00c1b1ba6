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

// Registration refuses at once an endpoint off the public internet that
// a delivery would be refused: an address that is not public, this
// machine by name, and hosts that are no DNS name (one label, a number a
// resolver may read as an address).
func TestPolicy_checkURL_refuses_private_addresses_unless_allowed(t *testing.T) {
	private := []string{"https://127.0.0.1/hook", "https://127.0.0.1:8443/hook", "https://10.0.0.5/", "https://172.16.0.1/",
		"https://192.168.1.1/", "https://169.254.169.254/latest/meta-data", "https://0.0.0.0/", "https://[::1]/",
		"https://[::]/", "https://[fc00::1]/", "https://[fd12:3456::1]/", "https://[fe80::1%25eth0]/", "https://[::ffff:10.0.0.1]/",
		"https://[64:ff9b::a9fe:a9fe]/", "https://localhost/", "https://LOCALHOST:8443/", "https://api.localhost/",
		"https://localhost./", "https://intranet/hook", "https://2130706433/", "https://127.1/", "https://0x7f.0.0.1/"}
	for _, u := range private {
		if why := (Policy{}).checkURL(u); why == "" {
			t.Errorf("%s taken", u)
		}
		if why := (Policy{AllowPrivate: true}).checkURL(u); why != "" {
			t.Errorf("%s refused though private addresses are allowed: %s", u, why)
		}
	}
	for _, u := range []string{"https://hooks.example.com/bizcenter", "https://Hooks.Example.com./x?y=1", "https://93.184.216.34/hook",
		"https://[2606:4700:4700::1111]:8443/hook", "https://xn--9n2bp8q.xn--3e0b707e/hook"} {
		if why := (Policy{}).checkURL(u); why != "" {
			t.Errorf("%s refused: %s", u, why)
		}
	}
	for _, p := range []Policy{{}, {AllowPrivate: true}} {
		for _, u := range []string{"http://hooks.example.com/", "hooks.example.com", "https://", "ftp://hooks.example.com/"} {
			if why := p.checkURL(u); why != "an https:// URL" {
				t.Errorf("%+v %s: %q", p, u, why)
			}
		}
		for _, u := range []string{"https://user:pw@hooks.example.com/", "https://token@hooks.example.com/", "https://hooks.example.com/x#frag",
			"https://hooks.example.com/#"} {
			if why := p.checkURL(u); why == "" {
				t.Errorf("%+v %s taken", p, u)
			}
		}
		for _, u := range []string{"https://hooks.example.com:0/", "https://hooks.example.com:99999/", "https://93.184.216.34:65536/"} {
			if why := p.checkURL(u); why == "" {
				t.Errorf("%+v %s taken: no such port", p, u)
			}
		}
		// Too long says so: "an https:// URL" of one that is told nothing.
		long := "https://hooks.example.com/" + strings.Repeat("a", 2000)
		if why := p.checkURL(long); !strings.Contains(why, "at most 2000 characters") {
			t.Errorf("%+v a URL of %d characters: %q", p, len(long), why)
		}
	}
}

// With private addresses allowed, the worker's default client posts to a
// server on this machine.
func TestPolicy_allowing_private_addresses_reaches_a_local_server(t *testing.T) {
	reached := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer srv.Close()
	resp, err := (Policy{AllowPrivate: true}).client().Post(srv.URL, "application/json", strings.NewReader(`{}`))
	if err != nil || !reached {
		t.Fatalf("%v (reached %v)", err, reached)
	}
	resp.Body.Close()
	if (Policy{}).client() != defaultClient {
		t.Fatal("the default policy's client is not the public one")
	}
}
