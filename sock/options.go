//go:build linux

package sock

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// OptionKind says what type of value a socket option takes.
type OptionKind int

// The kinds of socket option value.
const (
	KindInt       OptionKind = iota // an int: flags (0 or 1), sizes, TTLs
	KindTimeout                     // a duration: SO_RCVTIMEO, kept by the Conn (see SetReadTimeout)
	KindInet4Addr                   // an IPv4 address: IP_MULTICAST_IF
	KindMreqn                       // a group and an interface: IP_ADD_MEMBERSHIP (struct ip_mreqn)
	KindIPv6Mreq                    // a group and an interface index: IPV6_JOIN_GROUP (struct ipv6_mreq)
	KindIfindex                     // an interface index: IP_UNICAST_IF, IPV6_MULTICAST_IF, IPV6_UNICAST_IF
	KindDevice                      // an interface name: SO_BINDTODEVICE
)

// Option names one socket option: its level, number and the kind of value it takes.
type Option struct {
	Name   string // "SO_BROADCAST"
	Level  int    // unix.SOL_SOCKET
	Number int    // unix.SO_BROADCAST
	Kind   OptionKind
}

// Options lists the socket options udplab knows by name: those of the lesson, its exercises and
// the experiments. Options not listed can still be set as ints with SetsockoptInt.
var Options = []Option{
	{"SO_BROADCAST", unix.SOL_SOCKET, unix.SO_BROADCAST, KindInt},
	{"SO_REUSEADDR", unix.SOL_SOCKET, unix.SO_REUSEADDR, KindInt},
	{"SO_REUSEPORT", unix.SOL_SOCKET, unix.SO_REUSEPORT, KindInt},
	{"SO_RCVBUF", unix.SOL_SOCKET, unix.SO_RCVBUF, KindInt},
	{"SO_SNDBUF", unix.SOL_SOCKET, unix.SO_SNDBUF, KindInt},
	{"SO_RCVTIMEO", unix.SOL_SOCKET, unix.SO_RCVTIMEO, KindTimeout},
	{"SO_ERROR", unix.SOL_SOCKET, unix.SO_ERROR, KindInt},
	{"SO_TYPE", unix.SOL_SOCKET, unix.SO_TYPE, KindInt},
	{"SO_BINDTODEVICE", unix.SOL_SOCKET, unix.SO_BINDTODEVICE, KindDevice},
	{"IP_TTL", unix.IPPROTO_IP, unix.IP_TTL, KindInt},
	{"IP_TOS", unix.IPPROTO_IP, unix.IP_TOS, KindInt},
	{"IP_RECVERR", unix.IPPROTO_IP, unix.IP_RECVERR, KindInt},
	{"IP_UNICAST_IF", unix.IPPROTO_IP, unix.IP_UNICAST_IF, KindIfindex},
	{"IP_MULTICAST_IF", unix.IPPROTO_IP, unix.IP_MULTICAST_IF, KindInet4Addr},
	{"IP_MULTICAST_TTL", unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, KindInt},
	{"IP_MULTICAST_LOOP", unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, KindInt},
	{"IP_MULTICAST_ALL", unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, KindInt},
	{"IP_ADD_MEMBERSHIP", unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, KindMreqn},
	{"IP_DROP_MEMBERSHIP", unix.IPPROTO_IP, unix.IP_DROP_MEMBERSHIP, KindMreqn},
	{"IPV6_V6ONLY", unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, KindInt},
	{"IPV6_UNICAST_HOPS", unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, KindInt},
	{"IPV6_RECVERR", unix.IPPROTO_IPV6, unix.IPV6_RECVERR, KindInt},
	{"IPV6_UNICAST_IF", unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, KindIfindex},
	{"IPV6_MULTICAST_IF", unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, KindIfindex},
	{"IPV6_MULTICAST_HOPS", unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, KindInt},
	{"IPV6_MULTICAST_LOOP", unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, KindInt},
	{"IPV6_JOIN_GROUP", unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, KindIPv6Mreq},
	{"IPV6_LEAVE_GROUP", unix.IPPROTO_IPV6, unix.IPV6_LEAVE_GROUP, KindIPv6Mreq},
}

// LookupOption returns the Option at level and number, if udplab knows it by name.
func LookupOption(level, number int) (Option, bool) {
	for _, o := range Options {
		if o.Level == level && o.Number == number {
			return o, true
		}
	}
	return Option{}, false
}

// OptionByName returns the Option called name ("SO_BROADCAST").
func OptionByName(name string) (Option, bool) {
	for _, o := range Options {
		if o.Name == name {
			return o, true
		}
	}
	return Option{}, false
}

// SetsockoptInt wraps setsockopt(2) for an option whose value is an int.
func (c *Conn) SetsockoptInt(level, number, value int) error {
	err := c.control("setsockopt", func(fd int) error { return unix.SetsockoptInt(fd, level, number, value) })
	if c.tracer.On() {
		c.traceSockopt("setsockopt", level, number, "["+strconv.Itoa(value)+"]", 4, err)
	}
	return err
}

// GetsockoptInt wraps getsockopt(2) for an option whose value is an int. Reading SO_ERROR clears
// the socket's pending error, as in C.
func (c *Conn) GetsockoptInt(level, number int) (int, error) {
	var v int
	err := c.control("getsockopt", func(fd int) (err error) {
		v, err = unix.GetsockoptInt(fd, level, number)
		return err
	})
	if c.tracer.On() {
		value := "0x0"
		if err == nil {
			value = "[" + strconv.Itoa(v) + "]"
		}
		c.traceSockopt("getsockopt", level, number, value, 4, err)
	}
	return v, err
}

// SetsockoptInet4Addr wraps setsockopt(2) for an option whose value is an IPv4 address
// (IP_MULTICAST_IF: the interface multicast datagrams leave by).
func (c *Conn) SetsockoptInet4Addr(level, number int, addr netip.Addr) error {
	if !addr.Is4() {
		err := os.NewSyscallError("setsockopt", unix.EINVAL)
		if c.tracer.On() {
			c.traceSockopt("setsockopt", level, number, `"`+addr.String()+`"`, 4, err)
		}
		return err
	}
	err := c.control("setsockopt", func(fd int) error { return unix.SetsockoptInet4Addr(fd, level, number, addr.As4()) })
	if c.tracer.On() {
		c.traceSockopt("setsockopt", level, number, `{s_addr=inet_addr("`+addr.String()+`")}`, 4, err)
	}
	return err
}

// GetsockoptInet4Addr wraps getsockopt(2) for an option whose value is an IPv4 address.
func (c *Conn) GetsockoptInet4Addr(level, number int) (netip.Addr, error) {
	var v [4]byte
	err := c.control("getsockopt", func(fd int) (err error) {
		v, err = unix.GetsockoptInet4Addr(fd, level, number)
		return err
	})
	if c.tracer.On() {
		c.traceSockopt("getsockopt", level, number, `{s_addr=inet_addr("`+netip.AddrFrom4(v).String()+`")}`, 4, err)
	}
	return netip.AddrFrom4(v), err
}

// SetsockoptMreqn wraps setsockopt(2) for IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP: group is the
// multicast group, and the interface is given by its address ifaddr or, when ifaddr is not valid,
// by its index ifindex (0: the kernel chooses).
func (c *Conn) SetsockoptMreqn(level, number int, group, ifaddr netip.Addr, ifindex int) error {
	if !group.Is4() || (ifaddr.IsValid() && !ifaddr.Is4()) {
		return os.NewSyscallError("setsockopt", unix.EINVAL)
	}
	mreq := &unix.IPMreqn{Multiaddr: group.As4(), Ifindex: int32(ifindex)}
	if ifaddr.IsValid() {
		mreq.Address = ifaddr.As4()
	}
	err := c.control("setsockopt", func(fd int) error { return unix.SetsockoptIPMreqn(fd, level, number, mreq) })
	if c.tracer.On() {
		c.traceSockopt("setsockopt", level, number, fmt.Sprintf(`{imr_multiaddr=inet_addr("%s"), imr_address=inet_addr("%s"), imr_ifindex=%d}`,
			group, netip.AddrFrom4(mreq.Address), ifindex), unix.SizeofIPMreqn, err)
	}
	return err
}

// SetsockoptIPv6Mreq wraps setsockopt(2) for IPV6_JOIN_GROUP and IPV6_LEAVE_GROUP.
func (c *Conn) SetsockoptIPv6Mreq(level, number int, group netip.Addr, ifindex int) error {
	if !group.Is6() || group.Is4In6() {
		return os.NewSyscallError("setsockopt", unix.EINVAL)
	}
	mreq := &unix.IPv6Mreq{Multiaddr: group.As16(), Interface: uint32(ifindex)}
	err := c.control("setsockopt", func(fd int) error { return unix.SetsockoptIPv6Mreq(fd, level, number, mreq) })
	if c.tracer.On() {
		c.traceSockopt("setsockopt", level, number, fmt.Sprintf(`{inet_pton(AF_INET6, "%s", &ipv6mr_multiaddr), ipv6mr_interface=%d}`,
			group, ifindex), unix.SizeofIPv6Mreq, err)
	}
	return err
}

// SetsockoptIfindex wraps setsockopt(2) for an option whose value is an interface index
// (IP_UNICAST_IF, IPV6_UNICAST_IF, IPV6_MULTICAST_IF; 0 undoes it). The two UNICAST_IF options
// take the index in network byte order (the kernel applies ntohl); this takes it as a plain
// number for every option.
func (c *Conn) SetsockoptIfindex(level, number, ifindex int) error {
	v := ifindex
	if level == unix.IPPROTO_IP && number == unix.IP_UNICAST_IF || level == unix.IPPROTO_IPV6 && number == unix.IPV6_UNICAST_IF {
		v = int(int32(bits.ReverseBytes32(uint32(ifindex))))
	}
	err := c.control("setsockopt", func(fd int) error { return unix.SetsockoptInt(fd, level, number, v) })
	if c.tracer.On() {
		c.traceSockopt("setsockopt", level, number, "["+strconv.Itoa(v)+"]", 4, err) // as strace shows it
	}
	return err
}

// InterfaceIndex returns the index of the interface called name in the socket's own network
// namespace (asked with SIOCGIFINDEX on the socket), or name itself when it is a number: a lab
// host's "eth0" is not this machine's.
func (c *Conn) InterfaceIndex(name string) (int, error) {
	if n, err := strconv.ParseUint(name, 10, 31); err == nil {
		return int(n), nil
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, fmt.Errorf("unknown interface %q", name)
	}
	err = c.control("ioctl", func(fd int) error { return unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr) })
	if errors.Is(err, unix.ENODEV) {
		return 0, fmt.Errorf("unknown interface %q", name)
	}
	if err != nil {
		return 0, err
	}
	return int(ifr.Uint32()), nil
}

// SetsockoptString wraps setsockopt(2) for an option whose value is a string (SO_BINDTODEVICE:
// an interface name; "" undoes it).
func (c *Conn) SetsockoptString(level, number int, value string) error {
	err := c.control("setsockopt", func(fd int) error { return unix.SetsockoptString(fd, level, number, value) })
	if c.tracer.On() {
		c.traceSockopt("setsockopt", level, number, strconv.Quote(value), len(value), err)
	}
	return err
}

// GetsockoptString wraps getsockopt(2) for an option whose value is a string.
func (c *Conn) GetsockoptString(level, number int) (string, error) {
	var v string
	err := c.control("getsockopt", func(fd int) (err error) {
		v, err = unix.GetsockoptString(fd, level, number)
		return err
	})
	if c.tracer.On() {
		c.traceSockopt("getsockopt", level, number, strconv.Quote(v), len(v), err)
	}
	return v, err
}
