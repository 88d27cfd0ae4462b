package domain_test

import (
	"net/netip"
	"testing"

	"github.com/remit/remit/domain"
)

func TestParseHostAddr(t *testing.T) {
	for host, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "2130706433": "127.0.0.1", "127.1": "127.0.0.1", "0x7f.1": "127.0.0.1",
		"0177.0.0.1": "127.0.0.1", "0x7f000001": "127.0.0.1", "127.0.1": "127.0.0.1", "10.1": "10.0.0.1",
		"[::1]": "::1", "[::ffff:127.0.0.1]": "::ffff:127.0.0.1", "[fe80::1%eth0]": "fe80::1%eth0",
		"169.254.169.254.": "169.254.169.254", "0": "0.0.0.0", "8.8.8.8": "8.8.8.8",
	} {
		got, ok := domain.ParseHostAddr(host)
		if !ok || got.String() != want {
			t.Errorf("ParseHostAddr(%q) = %v %v, want %s", host, got, ok, want)
		}
	}
	for _, host := range []string{"example.com", "localhost", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "4294967296", "", "09", "1e3", "127.0.0.1.nip.io"} {
		if got, ok := domain.ParseHostAddr(host); ok {
			t.Errorf("ParseHostAddr(%q) = %v, want a host name", host, got)
		}
	}
}

func TestForbiddenAddr(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
		"0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1", "198.51.100.7", "203.0.113.9", "::1", "::",
		"::ffff:127.0.0.1", "::ffff:10.0.0.1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "2001:db8::1",
		"64:ff9b::a00:1", "2002:a00:1::1", "::127.0.0.1", "fe80::1%eth0"} {
		if domain.ForbiddenAddr(netip.MustParseAddr(a)) == "" {
			t.Errorf("%s is allowed", a)
		}
	}
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "100.128.0.1", "172.32.0.1"} {
		if why := domain.ForbiddenAddr(netip.MustParseAddr(a)); why != "" {
			t.Errorf("%s is refused: %s", a, why)
		}
	}
}
