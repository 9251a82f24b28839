//go:build linux

package sock

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// FuzzParseAddr: parsing never panics; what parses prints in a form that parses back to the same
// address; what Resolve refuses without a lookup it refuses with a message.
func FuzzParseAddr(f *testing.F) {
	for _, seed := range []struct {
		host string
		port int
	}{{"127.0.0.1", 43211}, {"::1", 0}, {"fe80::1%1", 5}, {"256.1.1.1", 1}, {"1.2.3", 1}, {"", -1}, {"::g", 65536},
		{"localhost:80", 80}, {"::ffff:127.0.0.1", 9}, {"[::1]", 1}, {"0.0.0.0", 65535}} {
		f.Add(seed.host, seed.port)
	}
	f.Fuzz(func(t *testing.T, host string, port int) {
		a, err := ParseAddr(host, port)
		if err != nil {
			return
		}
		if port < 0 || port > 65535 {
			t.Fatalf("ParseAddr(%q, %d) accepted an out-of-range port", host, port)
		}
		ap, perr := netip.ParseAddrPort(a.String())
		if perr != nil || ap.Port() != uint16(port) || ap.Addr().WithZone("") != a.IP().WithZone("") {
			t.Fatalf("ParseAddr(%q, %d) prints %q, which parses to %v (%v)", host, port, a, ap, perr)
		}
		if a.IP().Is4() != (a.Family() == unix.AF_INET) {
			t.Fatalf("ParseAddr(%q): family %d for %v", host, a.Family(), a.IP())
		}
		// The encoded sockaddr decodes back to the same address.
		var rsa unix.RawSockaddrAny
		copy((*[unix.SizeofSockaddrAny]byte)(unsafe.Pointer(&rsa))[:], a.raw[:a.rawLen])
		b, ok := decodeAddr(&rsa)
		if !ok || b.AddrPort().Addr().WithZone("") != a.IP().WithZone("") || b.Port() != a.Port() {
			t.Fatalf("sockaddr of %v decodes to %v", a, b)
		}
	})
}

// FuzzDecodeAddr: whatever bytes the kernel (or anyone) puts in a sockaddr, decoding never panics
// and a decoded address prints and re-encodes to itself.
func FuzzDecodeAddr(f *testing.F) {
	a, _ := ParseAddr("127.0.0.1", 43211)
	b, _ := ParseAddr("::1", 9)
	f.Add(a.raw[:a.rawLen])
	f.Add(b.raw[:b.rawLen])
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var rsa unix.RawSockaddrAny
		copy((*[unix.SizeofSockaddrAny]byte)(unsafe.Pointer(&rsa))[:], raw)
		d, ok := decodeAddr(&rsa)
		if !ok || d.Family() == unix.AF_UNSPEC {
			return
		}
		e, err := NewAddr(netip.AddrPortFrom(d.IP().WithZone(""), uint16(d.Port())))
		if err != nil || e.String() != netip.AddrPortFrom(d.IP().WithZone(""), uint16(d.Port())).String() {
			t.Fatalf("decoded %v re-encodes to %v (%v)", d, e, err)
		}
	})
}

// FuzzResolveRefusal: host strings that checkHostName refuses never reach the resolver, and
// numeric ones never do either; checked with a context that is already done, so that any
// lookup would fail as cancelled rather than with the refusal message.
func FuzzResolveRefusal(f *testing.F) {
	for _, s := range []string{"256.1.1.1", "localhost:80", "::g", "", "a b", "1.2.3.4.5", "[::1]:80"} {
		f.Add(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fuzz(func(t *testing.T, host string) {
		if checkHostName(host) == nil {
			if _, err := netip.ParseAddr(host); err != nil {
				return // a name: Resolve would look it up
			}
		}
		var asked *ResolveError
		if _, err := Resolve(ctx, host, 1, unix.AF_INET); errors.As(err, &asked) {
			t.Fatalf("Resolve(%q) asked the resolver", host)
		}
	})
}
