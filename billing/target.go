package billing

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/remit/remit/domain"
)

// resolveTimeout bounds the DNS lookup of a webhook URL's host at registration.
const resolveTimeout = 3 * time.Second

// WebhookClient returns the HTTP client that sends webhooks: WebhookTimeout
// per attempt, no redirects followed (a 3xx is a failure), no proxy from
// the environment, and unless allowPrivate a dialer that refuses, at the
// moment of connecting, any address that is not public (domain.ForbiddenAddr):
// what DNS answers at delivery counts, so a name that resolved to a public
// address at registration and to an internal one later (DNS rebinding)
// gets nowhere.
func WebhookClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = refusePrivate
	}
	return &http.Client{
		Timeout: WebhookTimeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          64,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// refusePrivate is the dialer's Control hook: address is the IP and port
// about to be connected to, after name resolution.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("remit refuses to send a webhook to %s: not an IP address and port", address)
	}
	if why := domain.ForbiddenAddr(ap.Addr()); why != "" {
		return fmt.Errorf("remit refuses to send a webhook to %s, a %s address (REMIT_WEBHOOK_ALLOW_PRIVATE=true allows it)", ap.Addr(), why)
	}
	return nil
}

// WebhookURLChecker returns the check of a webhook URL at registration:
// unless allowPrivate, a host that is, in any spelling, or resolves to an
// address that is not public is refused with EINVALID naming url. A host
// that does not resolve now is accepted (DNS may be down; the dialer checks
// again at every delivery).
func WebhookURLChecker(allowPrivate bool, resolver *net.Resolver) func(ctx context.Context, rawURL string) error {
	return func(ctx context.Context, rawURL string) error {
		if allowPrivate {
			return nil
		}
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil // Validate names the malformed URL
		}
		host := u.Hostname()
		var addrs []netip.Addr
		if a, ok := domain.ParseHostAddr(host); ok {
			addrs = []netip.Addr{a}
		} else {
			ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
			defer cancel()
			// "localhost." is localhost: the hosts file knows names without the root's dot.
			addrs, _ = resolver.LookupNetIP(ctx, "ip", strings.TrimSuffix(host, "."))
		}
		for _, a := range addrs {
			if why := domain.ForbiddenAddr(a); why != "" {
				is := host + " is"
				if a.String() != host {
					is = fmt.Sprintf("%s is %s,", host, a.WithZone(""))
				}
				msg := fmt.Sprintf("must reach a public address: %s a %s address (an operator may allow private targets with REMIT_WEBHOOK_ALLOW_PRIVATE=true)", is, why)
				return &domain.Error{Code: domain.EINVALID, Message: "url: " + msg, Fields: map[string]string{"url": msg}}
			}
		}
		return nil
	}
}
