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
	Time time.Time // when the call returned (a packet: when it was captured)
	// Start is when the call began, for a send: its datagram leaves between Start and Time.
	Start time.Time `json:",omitzero"`
	FD    int
	Host  string // the lab host the socket lives in; "" for this machine
	// Owner is who made the call when it was not this run's own Lua state: a script run() or
	// bg() started at the console ("udpconnectserver"); set by whoever merges the recordings.
	Owner string `json:",omitempty"`
	// Call is the call as the script made it: "socket", "bind", "connect", "send", "sendto",
	// "recv", "recvfrom", "close", "setsockopt SO_BROADCAST", "recverr"; "label" and "section"
	// carry a name the script gave a socket, or a section's title, in Data; "open" is a socket
	// that was open when recording began (RecordOpen), with its addresses and its name.
	Call   string
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
	// Flags are a receive's flags (MSG_PEEK leaves the datagram queued).
	Flags int `json:",omitempty"`

	// A packet the wire view captured (Call "packet"): Local is its source, Peer its
	// destination; Link is the link it was captured on ("lo", a lab's LAN), IPID its IPv4
	// identification (kept by routers and NAT: the same datagram on two LANs has the same). For
	// an ICMP error, ICMP names it ("ICMP port unreachable (type 3, code 3)"), Type and Code are
	// its numbers, and About and AboutTo are the source and destination of the datagram it is
	// about: the socket the error is for, and where that datagram went.
	// A recverr (the error queue) has its ICMP, Type, Code, Errno, and Offender.
	Link     string         `json:",omitempty"`
	IPID     int            `json:",omitempty"`
	ICMP     string         `json:",omitempty"`
	Type     int            `json:",omitempty"`
	Code     int            `json:",omitempty"`
	About    netip.AddrPort `json:",omitzero"`
	AboutTo  netip.AddrPort `json:",omitzero"`
	Offender netip.Addr     `json:",omitzero"`
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

// record hands ev to the recorder, if there is one; ev's time is now unless it has one.
func (t *Tracer) record(ev CallEvent) {
	if t == nil {
		return
	}
	if fn := t.recorder.Load(); fn != nil {
		if ev.Time.IsZero() {
			ev.Time = time.Now()
		}
		(*fn)(ev)
	}
}

// Record hands ev, an event the caller made (a socket's label, a section's title), to the
// recorder, if there is one.
func (t *Tracer) Record(ev CallEvent) { t.record(ev) }

// startTime is the time a call begins, when calls are recorded; zero otherwise (it costs
// nothing then).
func (t *Tracer) startTime() time.Time {
	if t.recording() {
		return time.Now()
	}
	return time.Time{}
}

// recording reports whether t has a recorder.
func (t *Tracer) recording() bool {
	return t != nil && t.recorder.Load() != nil
}

// recordCall records c's call name with its result, the address it names and its data.
func (c *Conn) recordCall(name string, r int, err error, peer *Addr, data []byte) {
	c.recordCallFrom(time.Time{}, name, r, err, peer, data)
}

// recordRecv records a receive with its flags.
func (c *Conn) recordRecv(name string, flags, r int, err error, from *Addr, data []byte) {
	c.recordCallWith(time.Time{}, flags, name, r, err, from, data)
}

// recordCallFrom is recordCall for a call that began at start.
func (c *Conn) recordCallFrom(start time.Time, name string, r int, err error, peer *Addr, data []byte) {
	c.recordCallWith(start, 0, name, r, err, peer, data)
}

// recordCallWith records a call that began at start (or zero), with the flags it was given.
func (c *Conn) recordCallWith(start time.Time, flags int, name string, r int, err error, peer *Addr, data []byte) {
	t := c.tracer
	if !t.recording() {
		return
	}
	ev := CallEvent{Start: start, FD: c.fd, Host: c.host, Call: name, Result: r, Errno: ErrnoOf(err), Len: len(data), Flags: flags}
	if err != nil && ev.Errno == 0 {
		ev.Errno = unix.EINTR
	}
	if peer != nil {
		ev.Peer, ev.Unspec = peer.ap, peer.family == unix.AF_UNSPEC
	} else if name == "send" || name == "sendto" || name == "recv" || name == "recvfrom" {
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

// recordFrame records a frame captured on link at at as a "packet" CallEvent: a UDP datagram, or
// an ICMP error about one.
func (t *Tracer) recordFrame(frame []byte, link string, at time.Time) {
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
	ev := CallEvent{Call: "packet", Time: at, Link: link}
	if !v6 && len(frame) >= 14+6 {
		ev.IPID = int(binary.BigEndian.Uint16(frame[14+4:]))
	}
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
		ev.Local, ev.Peer, ev.About, ev.AboutTo = netip.AddrPortFrom(src, 0), netip.AddrPortFrom(dst, 0), about, to
		ev.Type, ev.Code = int(l4[0]), int(l4[1])
		ev.ICMP = ICMPName(v6, l4[0], l4[1])
	default:
		return
	}
	t.record(ev)
}

// ICMPName names an ICMP (v6: ICMPv6) error by its type and code, with them:
// "ICMP port unreachable (type 3, code 3)".
func ICMPName(v6 bool, typ, code byte) string {
	kind := "ICMP"
	if v6 {
		kind = "ICMPv6"
	}
	return fmt.Sprintf("%s %s (type %d, code %d)", kind, icmpName(v6, typ, code), typ, code)
}

// RecordOpen records that c is open, with its local address, its peer and its name (an "open"
// CallEvent): for a recording that begins while c is open, which saw no call that made it so.
func (c *Conn) RecordOpen() {
	if !c.tracer.recording() || c.Closed() {
		return
	}
	ev := CallEvent{FD: c.fd, Host: c.host, Call: "open", Data: []byte(c.Name())}
	if local, err := c.LocalAddr(); err == nil {
		ev.Local = local.ap
	}
	if peer, err := c.RemoteAddr(); err == nil {
		ev.Peer = peer.ap
	}
	c.tracer.record(ev)
}
