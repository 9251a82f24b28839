//go:build linux

package sock

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The call trace prints one line per socket call, in strace's own format, so that a script's
// calls can be read beside `strace -e trace=network` of a C program:
//
//	socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3
//	connect(3, {sa_family=AF_INET, sin_port=htons(43211), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
//	recvfrom(3, 0xc000112000, 4096, 0, 0xc0000a4070, [112]) = -1 ECONNREFUSED (Connection refused)
//
// A line is a logical call: one line even when the runtime poller retried the system call after
// EAGAIN. Arguments are formatted only while tracing is on: the untraced path pays one atomic
// load per call.

// tracer is where trace lines go, and the packet capture that follows them (see wire.go).
type tracer struct {
	mu   sync.Mutex
	w    io.Writer
	wire *wire
}

var activeTracer atomic.Pointer[tracer]

// SetTrace turns the call trace on, writing to w, or off when w is nil. Turning it off also stops
// the wire view.
func SetTrace(w io.Writer) {
	if w == nil {
		if old := activeTracer.Swap(nil); old != nil && old.wire != nil {
			old.wire.close()
		}
		return
	}
	t := &tracer{w: w}
	if old := activeTracer.Load(); old != nil {
		t.wire = old.wire
	}
	activeTracer.Store(t)
}

// Tracing reports whether the call trace is on.
func Tracing() bool { return activeTracer.Load() != nil }

// emit writes one trace line, then the packets captured during the call.
func (t *tracer) emit(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.w, line+"\n")
	if t.wire != nil {
		t.wire.drain(t.w)
	}
}

// traceResult formats a call's result as strace does: "= 3", or "= -1 ECONNREFUSED (Connection
// refused)".
func traceResult(r int, err error) string {
	if err == nil {
		return "= " + strconv.Itoa(r)
	}
	e := ErrnoOf(err)
	if e == 0 {
		e = unix.EINTR // a wait cut short by a context: the C call would have been interrupted
	}
	return "= -1 " + ErrnoName(e) + " (" + Strerror(e) + ")"
}

// traceCall writes "name(args) = result" when tracing is on.
func traceCall(name, args string, r int, err error) {
	if t := activeTracer.Load(); t != nil {
		t.emit(name + "(" + args + ") " + traceResult(r, err))
	}
}

var familyNames = map[int]string{unix.AF_UNSPEC: "AF_UNSPEC", unix.AF_INET: "AF_INET", unix.AF_INET6: "AF_INET6", unix.AF_PACKET: "AF_PACKET"}
var typeNames = map[int]string{unix.SOCK_DGRAM: "SOCK_DGRAM", unix.SOCK_STREAM: "SOCK_STREAM", unix.SOCK_RAW: "SOCK_RAW"}
var protocolNames = map[int]string{0: "IPPROTO_IP", unix.IPPROTO_UDP: "IPPROTO_UDP", unix.IPPROTO_TCP: "IPPROTO_TCP", unix.IPPROTO_ICMP: "IPPROTO_ICMP"}
var levelNames = map[int]string{unix.SOL_SOCKET: "SOL_SOCKET", unix.IPPROTO_IP: "SOL_IP", unix.IPPROTO_IPV6: "SOL_IPV6", unix.IPPROTO_UDP: "SOL_UDP"}

func nameOr(names map[int]string, v int) string {
	if n, ok := names[v]; ok {
		return n
	}
	return strconv.Itoa(v)
}

func traceFlags(flags int) string {
	if flags == 0 {
		return "0"
	}
	var parts []string
	for _, f := range []struct {
		bit  int
		name string
	}{{unix.MSG_PEEK, "MSG_PEEK"}, {unix.MSG_DONTWAIT, "MSG_DONTWAIT"}, {unix.MSG_TRUNC, "MSG_TRUNC"}, {unix.MSG_ERRQUEUE, "MSG_ERRQUEUE"}} {
		if flags&f.bit != 0 {
			parts = append(parts, f.name)
			flags &^= f.bit
		}
	}
	if flags != 0 {
		parts = append(parts, "0x"+strconv.FormatInt(int64(flags), 16))
	}
	return strings.Join(parts, "|")
}

// traceSockaddr formats an address as strace prints a struct sockaddr.
func traceSockaddr(a *Addr) string {
	switch a.family {
	case unix.AF_INET:
		return fmt.Sprintf(`{sa_family=AF_INET, sin_port=htons(%d), sin_addr=inet_addr("%s")}`, a.Port(), a.IP())
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&a.raw[0]))
		scope := strconv.Itoa(int(sa.Scope_id))
		if zone := a.IP().Zone(); zone != "" && sa.Scope_id != 0 {
			scope = `if_nametoindex("` + zone + `")`
		}
		return fmt.Sprintf(`{sa_family=AF_INET6, sin6_port=htons(%d), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "%s", &sin6_addr), sin6_scope_id=%s}`,
			a.Port(), a.IP().WithZone(""), scope)
	}
	return `{sa_family=AF_UNSPEC, sa_data="\0\0\0\0\0\0\0\0\0\0\0\0\0\0"}`
}

// traceData quotes data as strace does: C escapes, octal for other bytes, cut after 32 bytes.
func traceData(p []byte) string {
	const max = 32
	var b strings.Builder
	b.WriteByte('"')
	for i, c := range p[:min(len(p), max)] {
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c >= 0x20 && c < 0x7f {
				b.WriteByte(c)
			} else if i+1 < len(p) && i+1 < max && p[i+1] >= '0' && p[i+1] <= '7' {
				fmt.Fprintf(&b, `\%03o`, c)
			} else {
				fmt.Fprintf(&b, `\%o`, c)
			}
		}
	}
	b.WriteByte('"')
	if len(p) > max {
		b.WriteString("...")
	}
	return b.String()
}

// tracePointer prints an address, as strace does for a buffer it does not decode.
func tracePointer[T any](p *T) string {
	return fmt.Sprintf("%#x", uintptr(unsafe.Pointer(p)))
}

func traceSocket(family, sotype, protocol, fd int, err error) {
	if activeTracer.Load() == nil {
		return
	}
	proto := strconv.Itoa(protocol)
	if family == unix.AF_INET || family == unix.AF_INET6 {
		proto = nameOr(protocolNames, protocol) // strace names protocol 0 IPPROTO_IP for these
	}
	traceCall("socket", nameOr(familyNames, family)+", "+nameOr(typeNames, sotype)+", "+proto, fd, err)
}

func (c *Conn) traceAddrCall(name string, a *Addr, err error) {
	if activeTracer.Load() == nil {
		return
	}
	traceCall(name, fmt.Sprintf("%d, %s, %d", c.fd, traceSockaddr(a), a.rawLen), 0, err)
}

func (c *Conn) traceSendto(p []byte, flags int, to *Addr, n int, err error) {
	if activeTracer.Load() == nil {
		return
	}
	dest := "NULL, 0"
	if to != nil {
		dest = fmt.Sprintf("%s, %d", traceSockaddr(to), to.rawLen)
	}
	traceCall("sendto", fmt.Sprintf("%d, %s, %d, %s, %s", c.fd, traceData(p), len(p), traceFlags(flags), dest), n, err)
}

func (c *Conn) traceRecvfrom(p []byte, flags int, wantFrom bool, from *Addr, n int, err error) {
	if activeTracer.Load() == nil {
		return
	}
	buf := fmt.Sprintf("%#x", uintptr(unsafe.Pointer(unsafe.SliceData(p))))
	if err == nil {
		buf = traceData(p[:min(n, len(p))])
	}
	src := "NULL, NULL"
	switch {
	case wantFrom && err == nil && from != nil && from.family != unix.AF_UNSPEC:
		src = fmt.Sprintf("%s, [%d => %d]", traceSockaddr(from), unix.SizeofSockaddrAny, from.rawLen)
	case wantFrom:
		src = fmt.Sprintf("%s, [%d]", tracePointer(&c.rsa), unix.SizeofSockaddrAny)
	}
	traceCall("recvfrom", fmt.Sprintf("%d, %s, %d, %s, %s", c.fd, buf, len(p), traceFlags(flags), src), n, err)
}

func (c *Conn) traceName(name string, a *Addr, err error) {
	if activeTracer.Load() == nil {
		return
	}
	addr := "0x0, [112]"
	if err == nil {
		addr = fmt.Sprintf("%s, [%d => %d]", traceSockaddr(a), unix.SizeofSockaddrAny, a.rawLen)
	}
	traceCall(name, fmt.Sprintf("%d, %s", c.fd, addr), 0, err)
}

func (c *Conn) traceSockopt(name string, level, number int, value string, size int, err error) {
	if activeTracer.Load() == nil {
		return
	}
	opt := strconv.Itoa(number)
	if o, ok := LookupOption(level, number); ok {
		opt = o.Name
	}
	sizeText := strconv.Itoa(size)
	if name == "getsockopt" {
		sizeText = "[" + sizeText + "]"
	}
	traceCall(name, fmt.Sprintf("%d, %s, %s, %s, %s", c.fd, nameOr(levelNames, level), opt, value, sizeText), 0, err)
}

func traceTimeval(d time.Duration) string {
	return fmt.Sprintf("{tv_sec=%d, tv_usec=%d}", int64(d/time.Second), int64(d%time.Second/time.Microsecond))
}

func tracePoll(conns []*Conn, timeout time.Duration, ready []bool, err error) {
	if activeTracer.Load() == nil {
		return
	}
	fds := make([]string, len(conns))
	for i, c := range conns {
		fds[i] = fmt.Sprintf("{fd=%d, events=POLLIN}", c.fd)
	}
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	n := 0
	var revents []string
	for i, r := range ready {
		if r {
			n++
			revents = append(revents, fmt.Sprintf("{fd=%d, revents=POLLIN}", conns[i].fd))
		}
	}
	line := fmt.Sprintf("[%s], %d, %d", strings.Join(fds, ", "), len(conns), ms)
	result := traceResult(n, err)
	switch {
	case err == nil && n == 0:
		result += " (Timeout)"
	case err == nil:
		result += " ([" + strings.Join(revents, ", ") + "])"
	}
	if t := activeTracer.Load(); t != nil {
		t.emit("poll(" + line + ") " + result)
	}
}
