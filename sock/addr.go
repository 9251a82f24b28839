//go:build linux

package sock

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Addr is a socket address: an IPv4 or IPv6 address and a port, or the AF_UNSPEC address that
// dissolves a UDP association when passed to Connect. Its sockaddr encoding is computed once, by
// NewAddr or ParseAddr, and kept with it.
type Addr struct {
	family int
	ap     netip.AddrPort
	raw    [unix.SizeofSockaddrInet6]byte
	rawLen uint32
}

// Unspec is the AF_UNSPEC address: Connect(Unspec) dissolves a UDP socket's association.
var Unspec = func() *Addr {
	a := &Addr{family: unix.AF_UNSPEC, rawLen: unix.SizeofSockaddrInet4}
	return a
}()

// NewAddr returns the address of ap, AF_INET for an IPv4 address and AF_INET6 otherwise. An IPv6
// zone (fe80::1%lo) becomes the scope id: a number, or an interface name looked up once here.
func NewAddr(ap netip.AddrPort) (*Addr, error) {
	if !ap.Addr().IsValid() {
		return nil, errors.New("invalid IP address")
	}
	a := &Addr{ap: ap}
	ip := ap.Addr()
	if ip.Is4() {
		a.family = unix.AF_INET
		a.rawLen = unix.SizeofSockaddrInet4
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&a.raw[0]))
		sa.Family = unix.AF_INET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], ap.Port())
		sa.Addr = ip.As4()
		return a, nil
	}
	a.family = unix.AF_INET6
	a.rawLen = unix.SizeofSockaddrInet6
	sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&a.raw[0]))
	sa.Family = unix.AF_INET6
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], ap.Port())
	sa.Addr = ip.As16()
	if zone := ip.Zone(); zone != "" {
		id, err := zoneIndex(zone)
		if err != nil {
			return nil, err
		}
		sa.Scope_id = id
	}
	return a, nil
}

// ParseAddr returns the address of a numeric host ("127.0.0.1", "::1", "fe80::1%lo") and a port.
// It never resolves names: see Resolve.
func ParseAddr(host string, port int) (*Addr, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("port %d out of range 0..65535", port)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, fmt.Errorf("invalid IP address %q", host)
	}
	return NewAddr(netip.AddrPortFrom(ip, uint16(port)))
}

// DefaultResolveTimeout bounds a name lookup made by Resolve.
const DefaultResolveTimeout = 2 * time.Second

// Resolve returns the address of host and port. A numeric host is parsed as ParseAddr does; a name
// is looked up once through the system resolver, within DefaultResolveTimeout or ctx's deadline,
// and its first address of family (AF_INET or AF_INET6; AF_UNSPEC takes any) is used.
func Resolve(ctx context.Context, host string, port, family int) (*Addr, error) {
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("port %d out of range 0..65535", port)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return NewAddr(netip.AddrPortFrom(ip, uint16(port)))
	}
	if err := checkHostName(host); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultResolveTimeout)
	defer cancel()
	network := "ip"
	switch family {
	case unix.AF_INET:
		network = "ip4"
	case unix.AF_INET6:
		network = "ip6"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err == nil && len(ips) == 0 {
		err = &net.DNSError{Err: "no address of that family", Name: host, IsNotFound: true}
	}
	if err != nil {
		if e := descriptorShortage(); e != nil {
			return nil, e // the resolver could not open its files and sockets: say why
		}
		return nil, &ResolveError{Host: host, Err: err}
	}
	return NewAddr(netip.AddrPortFrom(ips[0].Unmap(), uint16(port)))
}

// descriptorShortage returns EMFILE (or ENFILE) as an *os.SyscallError when no file descriptor
// can be opened now. The resolver needs descriptors (/etc/hosts, a DNS socket) and reports their
// lack only as "no such host"; a lookup that failed for that reason is reported as EMFILE.
func descriptorShortage() error {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		return nil
	}
	if err == unix.EMFILE || err == unix.ENFILE {
		return os.NewSyscallError("socket", err)
	}
	return nil
}

// ResolveError is a failed name lookup, with the resolver's error as its cause.
type ResolveError struct {
	Host string
	Err  error
}

// Error says which host and why: `cannot resolve host "x.invalid": no such host`; when the
// name server could not be asked, which one and the errno, in C's words: `cannot resolve host
// "foo": the name server 10.255.255.53:53 cannot be reached: Network is unreachable (101)`.
func (e *ResolveError) Error() string {
	reason := e.Err.Error()
	var dns *net.DNSError
	if errors.As(e.Err, &dns) {
		reason = dns.Err
		switch errno := errnoInText(dns.Err); {
		case dns.IsTimeout:
			reason = "timed out"
		case errno != 0 && dns.Server != "":
			reason = fmt.Sprintf("the name server %s cannot be reached: %s (%d)", dns.Server, Strerror(errno), int(errno))
		}
	}
	return fmt.Sprintf("cannot resolve host %q: %s", e.Host, reason)
}

// errnoInText finds the errno whose Go text ends text, as Go's resolver writes the error of the
// socket it asked the name server with ("dial udp 10.255.255.53:53: connect: network is
// unreachable"), which it keeps only as text. 0 when there is none.
func errnoInText(text string) unix.Errno {
	i := strings.LastIndex(text, ": ")
	if i < 0 {
		return 0
	}
	for e := unix.Errno(1); e < 256; e++ {
		if e.Error() == text[i+2:] {
			return e
		}
	}
	return 0
}

// Unwrap returns the resolver's error.
func (e *ResolveError) Unwrap() error { return e.Err }

// checkHostName refuses, without asking any resolver, what cannot be a host name: an empty
// string, an address with a port attached ("localhost:80"), or a malformed numeric address
// ("256.1.1.1", "1.2.3", "::g").
func checkHostName(host string) error {
	switch {
	case host == "":
		return errors.New("empty host name")
	case strings.Count(host, ":") == 1 && !strings.HasPrefix(host, "["):
		return fmt.Errorf("invalid host %q: give the port as a separate argument", host)
	case strings.ContainsAny(host, ":[]%"):
		return fmt.Errorf("invalid IPv6 address %q", host)
	case strings.Trim(host, "0123456789.") == "":
		return fmt.Errorf("invalid IPv4 address %q", host)
	case len(host) > 253 || strings.ContainsAny(host, " \t\n\x00/"):
		return fmt.Errorf("invalid host name %q", host)
	}
	return nil
}

// Family returns AF_INET, AF_INET6 or AF_UNSPEC.
func (a *Addr) Family() int { return a.family }

// AddrPort returns the IP address and port; it is the zero AddrPort for AF_UNSPEC.
func (a *Addr) AddrPort() netip.AddrPort { return a.ap }

// IP returns the IP address, with its zone for a scoped IPv6 address.
func (a *Addr) IP() netip.Addr { return a.ap.Addr() }

// Port returns the port.
func (a *Addr) Port() int { return int(a.ap.Port()) }

// String returns the address as "127.0.0.1:43211", "[::1]:43211" or "AF_UNSPEC".
func (a *Addr) String() string {
	if a.family == unix.AF_UNSPEC {
		return "AF_UNSPEC"
	}
	return a.ap.String()
}

// sockaddr returns a pointer to the encoded sockaddr and its length, for a system call.
func (a *Addr) sockaddr() (unsafe.Pointer, uint32) {
	return unsafe.Pointer(&a.raw[0]), a.rawLen
}

// decodeAddr turns a sockaddr the kernel filled in into an Addr; ok is false for a family sock
// does not know (or an empty address, as recvfrom gives on some sockets).
func decodeAddr(rsa *unix.RawSockaddrAny) (*Addr, bool) {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
		a, _ := NewAddr(netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), port))
		return a, true
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
		ip := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			ip = ip.WithZone(zoneName(sa.Scope_id))
		}
		a := &Addr{family: unix.AF_INET6, ap: netip.AddrPortFrom(ip, port), rawLen: unix.SizeofSockaddrInet6}
		*(*unix.RawSockaddrInet6)(unsafe.Pointer(&a.raw[0])) = *sa
		return a, true
	case unix.AF_UNSPEC:
		return Unspec, true
	}
	return nil, false
}

// zoneIndex returns the interface index of an IPv6 zone: a number, or an interface name.
func zoneIndex(zone string) (uint32, error) {
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		if ErrnoOf(err) != 0 { // the lookup itself failed (out of descriptors: EMFILE)
			return 0, os.NewSyscallError("if_nametoindex", ErrnoOf(err))
		}
		return 0, fmt.Errorf("unknown interface %q", zone)
	}
	return uint32(ifi.Index), nil
}

// zoneName returns the interface name of index, or the number itself when there is no such
// interface.
func zoneName(index uint32) string {
	if ifi, err := net.InterfaceByIndex(int(index)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(index), 10)
}

// InterfaceIndex returns the index of the interface called name, or name itself when it is a
// number, as a multicast option's interface may be given either way.
func InterfaceIndex(name string) (int, error) {
	id, err := zoneIndex(name)
	return int(id), err
}
