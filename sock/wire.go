//go:build linux

package sock

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// The wire view: with the trace on, the packets that cross the loopback interface for this
// process's sockets are printed after the call during which they crossed, captured with an
// AF_PACKET socket on "lo" (no libpcap):
//
//	sendto(3, "g1", 2, 0, {sa_family=AF_INET, sin_port=htons(43211), ...}, 16) = 2
//	127.0.0.1:51234 > 127.0.0.1:43211 UDP len 2 "g1"
//	127.0.0.1 > 127.0.0.1 ICMP port unreachable for UDP 127.0.0.1:51234 > 127.0.0.1:43211
//
// On loopback a datagram, and the ICMP error it may bring back, are delivered during the sendto
// itself, so draining the capture after each call line puts them right after it. Loopback shows
// every frame twice, outgoing and incoming; only the incoming copy is kept.

// wire is an AF_PACKET capture on the loopback interface.
type wire struct {
	fd  int
	buf []byte
}

// registry holds the open Conns, so that the wire view shows only their packets.
var registry = struct {
	sync.Mutex
	conns map[*Conn]struct{}
}{conns: map[*Conn]struct{}{}}

func register(c *Conn) {
	registry.Lock()
	registry.conns[c] = struct{}{}
	registry.Unlock()
}

func unregister(c *Conn) {
	registry.Lock()
	delete(registry.conns, c)
	registry.Unlock()
}

// localPorts returns the local ports of the open Conns.
func localPorts() map[uint16]bool {
	registry.Lock()
	conns := make([]*Conn, 0, len(registry.conns))
	for c := range registry.conns {
		conns = append(conns, c)
	}
	registry.Unlock()
	ports := make(map[uint16]bool, len(conns))
	for _, c := range conns {
		if a, err := c.LocalAddr(); err == nil && a.Port() != 0 {
			ports[uint16(a.Port())] = true
		}
	}
	return ports
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// StartWire turns the call trace on, writing to w, and adds the wire view. Capturing needs
// CAP_NET_RAW: without it StartWire returns the error (EPERM) and the trace stays on, without the
// wire view.
func StartWire(w io.Writer) error {
	SetTrace(w)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return fmt.Errorf("no loopback interface: %v", err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: lo.Index}); err != nil {
		unix.Close(fd)
		return os.NewSyscallError("bind", err)
	}
	activeTracer.Store(&tracer{w: w, wire: &wire{fd: fd, buf: make([]byte, 1<<16+256)}})
	return nil
}

// Wiring reports whether the wire view is on.
func Wiring() bool {
	t := activeTracer.Load()
	return t != nil && t.wire != nil
}

// FlushWire prints the packets captured since the last call line: for the end of a program.
func FlushWire() {
	if t := activeTracer.Load(); t != nil && t.wire != nil {
		t.mu.Lock()
		t.wire.drain(t.w)
		t.mu.Unlock()
	}
}

func (w *wire) close() { unix.Close(w.fd) }

// drain prints every captured frame that belongs to one of the open Conns.
func (w *wire) drain(out io.Writer) {
	var ports map[uint16]bool
	for {
		n, from, err := unix.Recvfrom(w.fd, w.buf, unix.MSG_DONTWAIT)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if ports == nil {
			ports = localPorts()
		}
		if line := describeFrame(w.buf[:n], ports); line != "" {
			io.WriteString(out, line+"\n")
		}
	}
}

// describeFrame describes an Ethernet frame captured on lo when it carries UDP to or from one of
// ports, or an ICMP error about such a datagram; else it returns "".
func describeFrame(frame []byte, ports map[uint16]bool) string {
	if len(frame) < 14 {
		return ""
	}
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case unix.ETH_P_IP:
		return describeIPv4(frame[14:], ports)
	case unix.ETH_P_IPV6:
		return describeIPv6(frame[14:], ports)
	}
	return ""
}

// ipv4Header returns the source, destination, protocol and payload of an IPv4 packet.
func ipv4Header(p []byte) (src, dst netip.Addr, proto byte, payload []byte, ok bool) {
	if len(p) < 20 || p[0]>>4 != 4 {
		return
	}
	ihl := int(p[0]&0x0f) * 4
	if ihl < 20 || len(p) < ihl {
		return
	}
	return netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20])), p[9], p[ihl:], true
}

// ipv6Header returns the source, destination, next header and payload of an IPv6 packet.
func ipv6Header(p []byte) (src, dst netip.Addr, proto byte, payload []byte, ok bool) {
	if len(p) < 40 || p[0]>>4 != 6 {
		return
	}
	return netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40])), p[6], p[40:], true
}

// udpPorts returns a UDP header's ports.
func udpPorts(p []byte) (sport, dport uint16, ok bool) {
	if len(p) < 8 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4]), true
}

func describeIPv4(p []byte, ports map[uint16]bool) string {
	src, dst, proto, l4, ok := ipv4Header(p)
	if !ok {
		return ""
	}
	switch proto {
	case unix.IPPROTO_UDP:
		return describeUDP(src, dst, l4, ports)
	case unix.IPPROTO_ICMP:
		if len(l4) < 8 {
			return ""
		}
		isrc, idst, iproto, inner, ok := ipv4Header(l4[8:])
		if !ok || iproto != unix.IPPROTO_UDP {
			return ""
		}
		return describeICMP("ICMP", icmpName(l4[0], l4[1]), src, dst, isrc, idst, inner, ports)
	}
	return ""
}

func describeIPv6(p []byte, ports map[uint16]bool) string {
	src, dst, proto, l4, ok := ipv6Header(p)
	if !ok {
		return ""
	}
	switch proto {
	case unix.IPPROTO_UDP:
		return describeUDP(src, dst, l4, ports)
	case unix.IPPROTO_ICMPV6:
		if len(l4) < 8 || l4[0] >= 128 { // informational messages (echo, neighbour discovery)
			return ""
		}
		isrc, idst, iproto, inner, ok := ipv6Header(l4[8:])
		if !ok || iproto != unix.IPPROTO_UDP {
			return ""
		}
		return describeICMP("ICMP6", icmp6Name(l4[0], l4[1]), src, dst, isrc, idst, inner, ports)
	}
	return ""
}

func describeUDP(src, dst netip.Addr, udp []byte, ports map[uint16]bool) string {
	sport, dport, ok := udpPorts(udp)
	if !ok || !ports[sport] && !ports[dport] {
		return ""
	}
	length := int(binary.BigEndian.Uint16(udp[4:6])) - 8
	data := udp[8:]
	if length >= 0 && length < len(data) {
		data = data[:length]
	}
	return fmt.Sprintf("%s > %s UDP len %d %s", netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport), length, traceData(data))
}

func describeICMP(proto, what string, src, dst, isrc, idst netip.Addr, inner []byte, ports map[uint16]bool) string {
	sport, dport, ok := udpPorts(inner)
	if !ok || !ports[sport] && !ports[dport] {
		return ""
	}
	return fmt.Sprintf("%s > %s %s %s for UDP %s > %s", src, dst, proto, what,
		netip.AddrPortFrom(isrc, sport), netip.AddrPortFrom(idst, dport))
}

// icmpName names an ICMP error by its type and code (RFC 792).
func icmpName(typ, code byte) string {
	switch typ {
	case 3:
		if name, ok := map[byte]string{0: "net unreachable", 1: "host unreachable", 2: "protocol unreachable",
			3: "port unreachable", 4: "fragmentation needed", 13: "communication administratively prohibited"}[code]; ok {
			return name
		}
		return fmt.Sprintf("destination unreachable (code %d)", code)
	case 11:
		return "time exceeded"
	case 12:
		return "parameter problem"
	}
	return fmt.Sprintf("type %d code %d", typ, code)
}

// icmp6Name names an ICMPv6 error by its type and code (RFC 4443).
func icmp6Name(typ, code byte) string {
	switch typ {
	case 1:
		if name, ok := map[byte]string{0: "no route to destination", 1: "communication administratively prohibited",
			3: "address unreachable", 4: "port unreachable"}[code]; ok {
			return name
		}
		return fmt.Sprintf("destination unreachable (code %d)", code)
	case 2:
		return "packet too big"
	case 3:
		return "time exceeded"
	}
	return fmt.Sprintf("type %d code %d", typ, code)
}
