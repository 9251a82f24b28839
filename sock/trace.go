//go:build linux

package sock

import (
	"fmt"
	"io"
	"net/netip"
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
// EAGAIN. Arguments are formatted only while the trace prints: the untraced path pays one atomic
// load per call, and a call only recorded (for the diagram) is kept as a CallEvent, not a line.

// Tracer is where a set of Conns report their calls: the Conns that Socket opened with it in
// their Config. It is off until Start, and may be turned on and off while they are open. Its
// captures (see Capture) show the packets of those Conns after each call line. Any goroutine may
// use a Tracer; a nil *Tracer is never on.
type Tracer struct {
	on       atomic.Bool // printing or recording: the calls are formatted
	printing atomic.Bool // Start was called: the lines are written
	recorder atomic.Pointer[func(CallEvent)]
	labelled atomic.Bool                                                  // a Conn was named (Label): the wire view names its address
	names    names                                                        // the named Conns' addresses (label.go)
	sink     atomic.Pointer[func(c *Capture, frame []byte, at time.Time)] // SetFrameSink's
	idle     atomic.Bool                                                  // no call is under way: captured packets are printed as they come

	mu       sync.Mutex // serialises output; guards w and captures; taken before a Capture's mu
	w        io.Writer
	captures []*Capture
	merge    merger // the captures' frames, held and handed on in time order (merge.go)

	connsMu sync.Mutex // guards conns
	conns   map[*Conn]struct{}

	portsMu    sync.Mutex              // guards ports and portsAt
	ports      map[uint16][]netip.Addr // the local addresses of t's Conns on this machine, by port
	portsAt    time.Time
	portsStale atomic.Bool  // a Conn was opened, closed or may have got a port since ports was made
	binding    atomic.Int32 // calls under way that may give a Conn its port (bind, connect, send)
}

// portsRefresh is how often, at most, a frame on an unknown port makes the Tracer look at its
// sockets' ports again: a socket may have got its port in the call under way.
const portsRefresh = time.Millisecond

// NewTracer returns a Tracer, off.
func NewTracer() *Tracer {
	return &Tracer{conns: map[*Conn]struct{}{}}
}

// On reports whether t is tracing: printing or recording. The untraced path pays this one atomic
// load per call.
func (t *Tracer) On() bool { return t != nil && t.on.Load() }

// Printing reports whether t writes its lines (Start was called), whether or not it records.
func (t *Tracer) Printing() bool { return t != nil && t.printing.Load() }

// Start turns the trace on, writing to w.
func (t *Tracer) Start(w io.Writer) {
	t.mu.Lock()
	t.w = w
	t.mu.Unlock()
	t.printing.Store(true)
	t.on.Store(true)
}

// Collect reads what the captures hold now and hands on every frame held, in time order: to the
// recorder, the frame sink, and the wire view's queue when it is printing.
func (t *Tracer) Collect() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.collect()
}

// StopPrinting turns the trace off; the captures go on (for a frame sink, SetFrameSink).
func (t *Tracer) StopPrinting() {
	t.printing.Store(false)
	t.on.Store(t.recording())
	t.merge.mu.Lock()
	clear(t.merge.queue)
	t.merge.queue = t.merge.queue[:0]
	t.merge.dropped = 0
	t.merge.mu.Unlock()
}

// Stop turns the trace off and closes its captures, handing on the frames they held to the
// recorder (SetRecorder), which keeps recording.
func (t *Tracer) Stop() {
	t.StopPrinting()
	t.mu.Lock()
	captures := t.captures
	t.captures = nil
	t.mu.Unlock()
	for _, c := range captures {
		c.close()
	}
	t.release(true)
}

// AddCapture makes t print c's packets after each call line, until Stop; c starts reading.
func (t *Tracer) AddCapture(c *Capture) {
	t.mu.Lock()
	t.captures = append(t.captures, c)
	t.mu.Unlock()
	c.start(t)
}

// SetFrameSink gives sink every frame t's captures keep (those the wire view shows), with the
// capture it came from and the time it crossed, in the order they crossed, a few milliseconds
// after it is read (merge.go); nil stops it. sink must not keep the frame.
func (t *Tracer) SetFrameSink(sink func(c *Capture, frame []byte, at time.Time)) {
	if sink == nil {
		t.sink.Store(nil)
		return
	}
	t.sink.Store(&sink)
}

// Capturing reports whether t has a capture.
func (t *Tracer) Capturing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.captures) > 0
}

// SetIdle tells t whether its program is idle (a console waiting for a line): while it is,
// packets are printed as they are captured (once their turn comes: merge.go) rather than after
// the next call line.
func (t *Tracer) SetIdle(idle bool) {
	if t == nil {
		return
	}
	t.idle.Store(idle)
	if idle {
		t.Flush()
	}
}

// Flush hands on every frame the captures hold (Collect) and prints the packets captured since
// the last call line: for the end of a program, or while it is idle.
func (t *Tracer) Flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.printing.Load() {
		t.collect() // for the frame sink and the recorder alone
		return
	}
	t.drain()
}

func (t *Tracer) register(c *Conn) {
	if t == nil {
		return
	}
	t.connsMu.Lock()
	t.conns[c] = struct{}{}
	t.connsMu.Unlock()
	t.portsStale.Store(true)
}

func (t *Tracer) unregister(c *Conn) {
	if t == nil {
		return
	}
	t.connsMu.Lock()
	delete(t.conns, c)
	t.connsMu.Unlock()
	t.portsStale.Store(true)
	if c.label.Load() != nil {
		t.names.stale.Store(true)
	}
}

// bindingCall marks a call that may give a Conn its port (sendto binds an unbound socket; its
// datagram crosses lo during the call): until done, every frame on an unknown port makes the
// Tracer look at its sockets' ports again, so that the capture does not take the datagram for
// another program's.
func (t *Tracer) bindingCall() (done func()) {
	t.binding.Add(1)
	return t.bindingDone
}

func (t *Tracer) bindingDone() {
	t.portsStale.Store(true)
	t.binding.Add(-1)
}

// owns reports whether src or dst is the local address of one of t's open Conns on this
// machine (not a lab host's: lo carries only this machine's traffic): the same port and address,
// or the port on a socket bound to the wildcard address. A port alone is not enough: another
// program's socket, or a lab host's, may have it. The addresses are looked up again when neither
// is known and the last look may be out of date.
func (t *Tracer) owns(src, dst netip.AddrPort) bool {
	t.portsMu.Lock()
	defer t.portsMu.Unlock()
	if t.holds(src) || t.holds(dst) {
		return true
	}
	if t.binding.Load() == 0 && !t.portsStale.Load() && time.Since(t.portsAt) < portsRefresh {
		return false
	}
	t.portsStale.Store(false)
	t.connsMu.Lock()
	conns := make([]*Conn, 0, len(t.conns))
	for c := range t.conns {
		if c.host == "" {
			conns = append(conns, c)
		}
	}
	t.connsMu.Unlock()
	t.ports = make(map[uint16][]netip.Addr, len(conns))
	for _, c := range conns {
		if a, err := c.LocalAddr(); err == nil && a.Port() != 0 {
			t.ports[uint16(a.Port())] = append(t.ports[uint16(a.Port())], a.IP().Unmap())
		}
	}
	t.portsAt = time.Now()
	return t.holds(src) || t.holds(dst)
}

// holds says a's port is held by one of t's Conns at a's address or the wildcard; portsMu is held.
func (t *Tracer) holds(a netip.AddrPort) bool {
	for _, ip := range t.ports[a.Port()] {
		if ip == a.Addr().Unmap() || ip.IsUnspecified() {
			return true
		}
	}
	return false
}

// emit writes one trace line, then the packets captured during the call.
func (t *Tracer) emit(line string) {
	if !t.printing.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	io.WriteString(t.w, line+"\n")
	t.drain()
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

// call writes "name(args) = result".
func (t *Tracer) call(name, args string, r int, err error) {
	t.emit(name + "(" + args + ") " + traceResult(r, err))
}

// traced writes c's call "name(args) = result", naming the lab host c lives in, if any.
func (c *Conn) traced(name, args string, r int, err error) {
	line := name + "(" + args + ") " + traceResult(r, err)
	if c.host != "" {
		line += "   (in " + c.host + ")"
	}
	c.tracer.emit(line)
}

// straceLevel names a level as strace does: SOL_IP where C passes IPPROTO_IP.
func straceLevel(level int) string {
	return strings.Replace(LevelName(level), "IPPROTO_", "SOL_", 1)
}

func traceFlags(flags int) string {
	if flags == 0 {
		return "0"
	}
	var parts []string
	for _, f := range MsgFlags {
		if flags&f.Value != 0 {
			parts = append(parts, f.Name)
			flags &^= f.Value
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

func (t *Tracer) traceSocket(family, sotype, protocol, fd int, err error) {
	proto := strconv.Itoa(protocol)
	if family == unix.AF_INET || family == unix.AF_INET6 {
		proto = NameOf(Protocols, protocol) // strace names protocol 0 IPPROTO_IP for these
	}
	if err == nil {
		t.record(CallEvent{FD: fd, Call: "socket", Result: fd})
	}
	if !t.Printing() {
		return
	}
	t.call("socket", FamilyName(family)+", "+TypeName(sotype)+", "+proto, fd, err)
}

// traceSocketIn traces a socket a lab host opened, as a socket call with the host named.
func (t *Tracer) traceSocketIn(family, sotype, protocol, fd int, host string) {
	proto := strconv.Itoa(protocol)
	if family == unix.AF_INET || family == unix.AF_INET6 {
		proto = NameOf(Protocols, protocol)
	}
	t.record(CallEvent{FD: fd, Host: host, Call: "socket", Result: fd})
	t.emit("socket(" + FamilyName(family) + ", " + TypeName(sotype) + ", " + proto + ") = " + strconv.Itoa(fd) + "   (in " + host + ")")
}

func (c *Conn) traceAddrCall(name string, a *Addr, err error) {
	c.recordCall(name, 0, err, a, nil) // first: the packets drained after the line come after it
	if !c.tracer.Printing() {
		return
	}
	c.traced(name, fmt.Sprintf("%s, %s, %d", c.fdText(), traceSockaddr(a), a.rawLen), 0, err)
}

func (c *Conn) traceSendto(start time.Time, op string, p []byte, flags int, to *Addr, n int, err error) {
	c.recordCallFrom(start, op, n, err, to, p)
	if !c.tracer.Printing() {
		return // recorded for the picture only: no line to format
	}
	dest := "NULL, 0"
	if to != nil {
		dest = fmt.Sprintf("%s, %d", traceSockaddr(to), to.rawLen)
	}
	c.traced("sendto", fmt.Sprintf("%s, %s, %d, %s, %s", c.fdText(), traceData(p), len(p), traceFlags(flags), dest), n, err)
}

func (c *Conn) traceRecvfrom(op string, p []byte, flags int, wantFrom bool, from *Addr, n int, err error) {
	c.recordRecvfrom(op, p, flags, from, n, err)
	if !c.tracer.Printing() {
		return // recorded for the picture only: no line to format
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
	c.traced("recvfrom", fmt.Sprintf("%s, %s, %d, %s, %s", c.fdText(), buf, len(p), traceFlags(flags), src), n, err)
}

// recordRecvfrom records a receive (op, as the script made it, with its flags): the data, and
// the sender when recvfrom gave one.
func (c *Conn) recordRecvfrom(op string, p []byte, flags int, from *Addr, n int, err error) {
	var data []byte
	if err == nil {
		data = p[:min(n, len(p))]
	}
	if from != nil && from.family == unix.AF_UNSPEC {
		from = nil
	}
	c.recordRecv(op, flags, n, err, from, data)
}

func (c *Conn) traceName(name string, a *Addr, err error) {
	if !c.tracer.Printing() {
		return
	}
	addr := "0x0, [112]"
	if err == nil {
		addr = fmt.Sprintf("%s, [%d => %d]", traceSockaddr(a), unix.SizeofSockaddrAny, a.rawLen)
	}
	c.traced(name, fmt.Sprintf("%s, %s", c.fdText(), addr), 0, err)
}

func (c *Conn) traceSockopt(name string, level, number int, value string, size int, err error) {
	opt := strconv.Itoa(number)
	if o, ok := LookupOption(level, number); ok {
		opt = o.Name
	}
	sizeText := strconv.Itoa(size)
	if name == "getsockopt" {
		sizeText = "[" + sizeText + "]"
	}
	c.recordCall(name+" "+opt, 0, err, nil, nil)
	if !c.tracer.Printing() {
		return
	}
	c.traced(name, fmt.Sprintf("%s, %s, %s, %s, %s", c.fdText(), straceLevel(level), opt, value, sizeText), 0, err)
}

func traceTimeval(d time.Duration) string {
	return fmt.Sprintf("{tv_sec=%d, tv_usec=%d}", int64(d/time.Second), int64(d%time.Second/time.Microsecond))
}

func (t *Tracer) tracePoll(conns []*Conn, timeout time.Duration, ready []bool, err error) {
	if !t.Printing() {
		return
	}
	fds := make([]string, len(conns))
	for i, c := range conns {
		fds[i] = "{fd=" + c.fdText() + ", events=POLLIN}"
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
			revents = append(revents, "{fd="+conns[i].fdText()+", revents=POLLIN}")
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
	t.emit("poll(" + line + ") " + result)
}
