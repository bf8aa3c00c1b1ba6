package webhooks

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bizcenter/bizcenter/domain"
)

// Policy says where webhooks may go.
type Policy struct {
	// AllowPrivate lets endpoints be registered at, and deliveries be
	// posted to, addresses off the public internet: loopback ("localhost"
	// too), private, link-local, unique-local and unspecified ones, and
	// hosts of one label. For tests and demos with a receiver on this
	// machine or network (BIZCENTER_WEBHOOKS_ALLOW_PRIVATE); never where
	// customers register endpoints, since the worker runs inside the
	// service's network.
	AllowPrivate bool
}

// The worker's clients unless Settings name one: one each, so that its
// connections are kept between deliveries.
var (
	defaultClient = publicClient()
	privateClient = anyAddressClient()
)

// client is the worker's client under the policy.
func (p Policy) client() *http.Client {
	if p.AllowPrivate {
		return privateClient
	}
	return defaultClient
}

// checkURL says why an endpoint's URL cannot be registered, or "". An IP
// address that is not public, and localhost, are refused here as every
// delivery to them would be (publicOnly), so that the administrator
// learns it at once rather than from a paused endpoint. Any other host
// must be a DNS name (domain.IsDNSName): a name of one label ("intranet")
// or a number a resolver may read as an address ("2130706433") has no
// place on the public internet. A name is resolved, and its address
// checked, at each delivery.
func (p Policy) checkURL(raw string) string {
	if len(raw) > 2000 {
		return "an https:// URL of at most 2000 characters"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "an https:// URL"
	}
	// Credentials have no place in it: deliveries are signed (the
	// receiver checks the signature), and the URL is listed to every
	// administrator of the account and written to logs. A fragment is
	// never sent, so the endpoint would not get what was registered.
	switch {
	case u.User != nil:
		return "an https:// URL without a user or password (deliveries are signed: check Webhook-Signature)"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "an https:// URL without a #fragment (a fragment is never sent)"
	}
	// url.Parse takes any digits as a port: 0 or 99999 could never be
	// delivered to, and the endpoint would only pause after its failures.
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "an https:// URL whose port, if given, is from 1 to 65535"
		}
	}
	if p.AllowPrivate {
		return ""
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := publicAddr(ip); err != nil || ip.Zone() != "" {
			return "an https:// URL on the public internet: " + host + " is not a public address"
		}
		return ""
	}
	switch {
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return "an https:// URL on the public internet: " + host + " is this machine"
	case !domain.IsDNSName(host):
		return "an https:// URL whose host is a DNS name like hooks.example.com (an internationalised one in its xn-- form) or a public IP address"
	}
	return ""
}

// publicClient posts only to addresses on the public internet. Endpoints
// are registered by customers' administrators, and the worker posts from
// inside the service's own network: without the check a webhook could
// reach its databases, its admin ports or a cloud metadata service
// (169.254.169.254). The check runs on the address dialled, after the
// name was resolved, so a name that resolves to a private address (or
// comes to, between registration and delivery) is refused too. It goes
// direct, without the environment's proxy, for the same reason.
func publicClient() *http.Client { return directClient(publicOnly) }

// anyAddressClient is publicClient without the check of the address
// (Policy.AllowPrivate).
func anyAddressClient() *http.Client { return directClient(nil) }

// directClient dials without the environment's proxy, checking each
// address dialled with control (nil: none).
func directClient(control func(network, address string, c syscall.RawConn) error) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, Control: control}).DialContext
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}

// notPublic are the ranges netip's predicates leave out that are not the
// public internet either.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
}

// publicOnly is a net.Dialer Control refusing every address but public
// unicast ones, checking too the IPv4 address inside an IPv6 one that
// translates to it (NAT64, 6to4).
func publicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook address %s: %w", address, err)
	}
	if err := publicAddr(ap.Addr()); err != nil {
		return fmt.Errorf("webhook refused: %w", err)
	}
	return nil
}

// publicAddr refuses an address that is not a public unicast one, or
// that translates to one that is not.
func publicAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	if !public(ip) {
		return fmt.Errorf("%s is not a public internet address", ip)
	}
	if v4, ok := embeddedIPv4(ip); ok && !public(v4) {
		return fmt.Errorf("%s reaches %s, not a public internet address", ip, v4)
	}
	return nil
}

func public(ip netip.Addr) bool {
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

// embeddedIPv4 is the IPv4 address an IPv6 one is translated or tunnelled
// to: the last 32 bits of a NAT64 address (RFC 6052, RFC 8215), bits 16
// to 48 of a 6to4 one (RFC 3056).
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case !ip.Is6():
		return netip.Addr{}, false
	case nat64.Contains(ip), nat64Local.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}
