package webhooks

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// defaultClient is the worker's client unless Settings name one: one, so
// that its connections are kept between deliveries.
var defaultClient = publicClient()

// publicClient posts only to addresses on the public internet. Endpoints
// are registered by customers' administrators, and the worker posts from
// inside the service's own network: without the check a webhook could
// reach its databases, its admin ports or a cloud metadata service
// (169.254.169.254). The check runs on the address dialled, after the
// name was resolved, so a name that resolves to a private address (or
// comes to, between registration and delivery) is refused too. It goes
// direct, without the environment's proxy, for the same reason.
func publicClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: publicOnly}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: dialer.DialContext, TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true,
	}}
}

// sharedSpace is 100.64.0.0/10, carrier-grade NAT: not public, though
// netip counts it neither private nor anything else.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// publicOnly is a net.Dialer Control refusing every address but public
// unicast ones.
func publicOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("webhook address %s: %w", address, err)
	}
	ip := ap.Addr().Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || sharedSpace.Contains(ip) {
		return fmt.Errorf("webhook refused: %s is not a public internet address", ip)
	}
	return nil
}
