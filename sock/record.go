//go:build linux

package sock

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// A Tracer can also hand each traced call to a recorder as a CallEvent: the same calls as the
// trace lines, as data, for a program that draws them (udplab's sequence diagram). Recording
// turns the Tracer on (it formats the calls) without printing them unless Start was called too.

// MaxEventData is how much of a datagram a CallEvent keeps.
const MaxEventData = 64

// CallEvent is one traced call.
type CallEvent struct {
	Time   time.Time
	FD     int
	Host   string     // the lab host the socket lives in; "" for this machine
	Call   string     // "socket", "bind", "connect", "sendto", "recvfrom", "close", "setsockopt", ...
	Result int        // the call's result when it succeeded
	Errno  unix.Errno // 0 when it succeeded
	// Local is the socket's local address after the call, when it has one.
	Local netip.AddrPort
	// Peer is the address the call names: connect's and bind's, where a send went, where a
	// datagram received came from; for send and recv on a connected socket, its peer.
	Peer netip.AddrPort
	// Unspec: connect to AF_UNSPEC, which dissolves the association.
	Unspec bool
	// Data is the start of the datagram sent or received (at most MaxEventData bytes); Len is its
	// length.
	Data []byte
	Len  int

	// A packet the wire view captured (Call "packet"): Local is its source, Peer its
	// destination; for an ICMP error, ICMP names it ("port unreachable (3/3)") and About is the
	// source of the datagram it is about, the socket the error is for.
	ICMP  string
	About netip.AddrPort
}

// SetRecorder makes t hand every traced call to record (nil: stop); record is called with the
// call's Conn held, from the goroutine that made the call, and must not block.
func (t *Tracer) SetRecorder(record func(CallEvent)) {
	if record == nil {
		t.recorder.Store(nil)
	} else {
		t.recorder.Store(&record)
	}
	t.on.Store(t.printing.Load() || record != nil)
}

// record hands ev to the recorder, if there is one.
func (t *Tracer) record(ev CallEvent) {
	if t == nil {
		return
	}
	if fn := t.recorder.Load(); fn != nil {
		ev.Time = time.Now()
		(*fn)(ev)
	}
}

// recording reports whether t has a recorder.
func (t *Tracer) recording() bool {
	return t != nil && t.recorder.Load() != nil
}

// recordCall records c's call name with its result, the address it names and its data.
func (c *Conn) recordCall(name string, r int, err error, peer *Addr, data []byte) {
	t := c.tracer
	if !t.recording() {
		return
	}
	ev := CallEvent{FD: c.fd, Host: c.host, Call: name, Result: r, Errno: ErrnoOf(err), Len: len(data)}
	if err != nil && ev.Errno == 0 {
		ev.Errno = unix.EINTR
	}
	if peer != nil {
		ev.Peer, ev.Unspec = peer.ap, peer.family == unix.AF_UNSPEC
	} else if name == "sendto" || name == "recvfrom" {
		if remote, err := c.RemoteAddr(); err == nil {
			ev.Peer = remote.ap
		}
	}
	if name != "close" {
		if local, err := c.LocalAddr(); err == nil {
			ev.Local = local.ap
		}
	}
	if len(data) > 0 {
		ev.Data = append([]byte(nil), data[:min(len(data), MaxEventData)]...)
	}
	t.record(ev)
}

// recordFrame records a captured frame of the traced sockets as a "packet" CallEvent: a UDP
// datagram, or an ICMP error about one.
func (t *Tracer) recordFrame(frame []byte) {
	if !t.recording() || len(frame) < 14 {
		return
	}
	var src, dst netip.Addr
	var proto byte
	var l4 []byte
	var ok, v6 bool
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case unix.ETH_P_IP:
		src, dst, proto, l4, ok = ipv4Header(frame[14:])
	case unix.ETH_P_IPV6:
		src, dst, proto, l4, ok = ipv6Header(frame[14:])
		v6 = true
	}
	if !ok {
		return
	}
	udp := func(src, dst netip.Addr, p []byte) (netip.AddrPort, netip.AddrPort, []byte, bool) {
		sport, dport, ok := udpPorts(p)
		if !ok {
			return netip.AddrPort{}, netip.AddrPort{}, nil, false
		}
		return netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport), p[8:], true
	}
	ev := CallEvent{Call: "packet"}
	switch {
	case proto == unix.IPPROTO_UDP:
		from, to, data, ok := udp(src, dst, l4)
		if !ok {
			return
		}
		ev.Local, ev.Peer, ev.Len = from, to, len(data)
		ev.Data = append([]byte(nil), data[:min(len(data), MaxEventData)]...)
	case (proto == unix.IPPROTO_ICMP || proto == unix.IPPROTO_ICMPV6) && len(l4) >= 8:
		var isrc, idst netip.Addr
		var iproto byte
		var inner []byte
		if v6 {
			isrc, idst, iproto, inner, ok = ipv6Header(l4[8:])
		} else {
			isrc, idst, iproto, inner, ok = ipv4Header(l4[8:])
		}
		if !ok || iproto != unix.IPPROTO_UDP {
			return
		}
		about, to, _, ok := udp(isrc, idst, inner)
		if !ok {
			return
		}
		ev.Local, ev.Peer, ev.About = netip.AddrPortFrom(src, 0), to, about
		kind := "ICMP"
		if v6 {
			kind = "ICMPv6"
		}
		ev.ICMP = fmt.Sprintf("%s %s (%d/%d)", kind, icmpName(v6, l4[0], l4[1]), l4[0], l4[1])
	default:
		return
	}
	t.record(ev)
}
