//go:build linux

package sock

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"

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

// Capture is an AF_PACKET capture on one interface: a Tracer that has it prints, after each call
// line, the frames that crossed since and belong to one of the Tracer's Conns.
type Capture struct {
	fd  int
	buf []byte
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// OpenCapture opens a capture on the interface called ifname ("lo"). Capturing needs CAP_NET_RAW:
// without it OpenCapture fails with EPERM.
func OpenCapture(ifname string) (*Capture, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	// The interface's index, asked on the capture's own socket: no other descriptor is needed.
	ifr, err := unix.NewIfreq(ifname)
	if err == nil {
		err = unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("no interface %q: %w", ifname, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: int(ifr.Uint32())}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	return &Capture{fd: fd, buf: make([]byte, 1<<16+256)}, nil
}

func (c *Capture) close() { unix.Close(c.fd) }

// drain prints every captured frame that belongs to one of ports.
func (c *Capture) drain(out io.Writer, ports map[uint16]bool) {
	for {
		var n int
		var from unix.Sockaddr
		err := ignoringEINTR(func() (err error) {
			n, from, err = unix.Recvfrom(c.fd, c.buf, unix.MSG_DONTWAIT)
			return err
		})
		if err != nil {
			return
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if line := describeFrame(c.buf[:n], ports); line != "" {
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
		return describeICMP("ICMP", icmpName(false, l4[0], l4[1]), src, dst, isrc, idst, inner, ports)
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
		return describeICMP("ICMP6", icmpName(true, l4[0], l4[1]), src, dst, isrc, idst, inner, ports)
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
