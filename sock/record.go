//go:build linux

package sock

import (
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
