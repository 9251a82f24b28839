//go:build linux

package sock

import (
	"context"
	"errors"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		host   string
		port   int
		want   string
		family int
	}{
		{"127.0.0.1", 43211, "127.0.0.1:43211", unix.AF_INET},
		{"::1", 43211, "[::1]:43211", unix.AF_INET6},
		{"0.0.0.0", 0, "0.0.0.0:0", unix.AF_INET},
		{"fe80::1%1", 5, "[fe80::1%1]:5", unix.AF_INET6},
	} {
		a, err := ParseAddr(tc.host, tc.port)
		if err != nil {
			t.Errorf("ParseAddr(%q, %d): %v", tc.host, tc.port, err)
			continue
		}
		if a.String() != tc.want || a.Family() != tc.family {
			t.Errorf("ParseAddr(%q, %d) = %v (family %d), want %v (%d)", tc.host, tc.port, a, a.Family(), tc.want, tc.family)
		}
	}
	for _, bad := range []struct {
		host string
		port int
	}{{"256.1.1.1", 1}, {"1.2.3", 1}, {"", 1}, {"::g", 1}, {"localhost:80", 1}, {"127.0.0.1", -1}, {"127.0.0.1", 65536}} {
		if a, err := ParseAddr(bad.host, bad.port); err == nil {
			t.Errorf("ParseAddr(%q, %d) = %v, want an error", bad.host, bad.port, a)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	a, err := Resolve(context.Background(), "localhost", 7, unix.AF_INET)
	if err != nil || a.String() != "127.0.0.1:7" {
		t.Fatalf("Resolve(localhost) = %v, %v", a, err)
	}
	_, err = Resolve(context.Background(), "no-such-host.invalid", 7, unix.AF_INET)
	if err == nil || err.Error() != `cannot resolve host "no-such-host.invalid": no such host` {
		t.Fatalf("Resolve(no-such-host.invalid): %v", err)
	}
}

// The kernel, not sock, decides what an address of the other family means on a socket.
func TestIPv6AddressOnIPv4Socket(t *testing.T) {
	t.Parallel()
	c := mustSocket(t, unix.AF_INET)
	err := c.Connect(mustAddr(t, "::1", 9))
	if !errors.Is(err, unix.EAFNOSUPPORT) && !errors.Is(err, unix.EINVAL) {
		t.Fatalf("connecting an AF_INET socket to ::1: %v, want EAFNOSUPPORT or EINVAL", err)
	}
}

func TestErrnoText(t *testing.T) {
	t.Parallel()
	for e, want := range map[unix.Errno][2]string{
		unix.ECONNREFUSED: {"ECONNREFUSED", "Connection refused"},
		unix.EAGAIN:       {"EAGAIN", "Resource temporarily unavailable"},
		unix.EACCES:       {"EACCES", "Permission denied"},
		unix.EDESTADDRREQ: {"EDESTADDRREQ", "Destination address required"},
		unix.ENOTCONN:     {"ENOTCONN", "Transport endpoint is not connected"},
		unix.EMFILE:       {"EMFILE", "Too many open files"},
		unix.EOPNOTSUPP:   {"EOPNOTSUPP", "Operation not supported"},
	} {
		if ErrnoName(e) != want[0] || Strerror(e) != want[1] {
			t.Errorf("errno %d: %q %q, want %q %q", int(e), ErrnoName(e), Strerror(e), want[0], want[1])
		}
	}
	if got := Strerror(unix.Errno(4000)); got != "Unknown error 4000" {
		t.Errorf("Strerror(4000) = %q", got)
	}
	if e, ok := ErrnoValue("EDESTADDRREQ"); !ok || e != unix.EDESTADDRREQ {
		t.Errorf("ErrnoValue(EDESTADDRREQ) = %d, %v", int(e), ok)
	}
}

// Malformed addresses are refused without a lookup, with a message that names them.
func TestResolveRefusesWithoutLookup(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]string{
		"256.1.1.1":    `invalid IPv4 address "256.1.1.1"`,
		"1.2.3":        `invalid IPv4 address "1.2.3"`,
		"":             `empty host name`,
		"::g":          `invalid IPv6 address "::g"`,
		"localhost:80": `invalid host "localhost:80": give the port as a separate argument`,
		"a b":          `invalid host name "a b"`,
	} {
		_, err := Resolve(context.Background(), host, 1, unix.AF_INET)
		if err == nil || err.Error() != want {
			t.Errorf("Resolve(%q): %v, want %s", host, err, want)
		}
	}
}

// A lookup whose name server could not be asked says so in C's words, with the errno, where Go's
// resolver keeps only its own text.
func TestResolveErrorText(t *testing.T) {
	for _, tc := range []struct {
		dns  *net.DNSError
		want string
	}{
		{&net.DNSError{Err: "dial udp 10.255.255.53:53: connect: network is unreachable", Name: "foo", Server: "10.255.255.53:53", IsTemporary: true},
			`cannot resolve host "foo": the name server 10.255.255.53:53 cannot be reached: Network is unreachable (101)`},
		{&net.DNSError{Err: "read udp 127.0.0.1:40000->127.0.0.1:53: read: connection refused", Name: "foo", Server: "127.0.0.1:53"},
			`cannot resolve host "foo": the name server 127.0.0.1:53 cannot be reached: Connection refused (111)`},
		{&net.DNSError{Err: "no such host", Name: "foo", Server: "10.255.255.53:53", IsNotFound: true}, `cannot resolve host "foo": no such host`},
		{&net.DNSError{Err: "i/o timeout", Name: "foo", Server: "10.255.255.53:53", IsTimeout: true}, `cannot resolve host "foo": timed out`},
	} {
		if got := (&ResolveError{Host: "foo", Err: tc.dns}).Error(); got != tc.want {
			t.Errorf("%q:\ngot  %s\nwant %s", tc.dns.Err, got, tc.want)
		}
	}
}
