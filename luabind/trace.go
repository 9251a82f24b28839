package luabind

import (
	"errors"
	"fmt"
	"io"
	"os"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/lab"
	"github.com/udplab/udplab/sock"
)

var traceBinding = binding{name: "trace", fn: (*Runtime).traceCall, help: helpEntry{
	"trace([on])", "print every socket call on stderr as strace does (udplab --trace)", "nothing; trace() with no argument: whether it is on", ""}}

// traceCall is trace(on): the strace-format call trace on stderr, on or off; it returns nothing,
// so that trace(true) at the console prints nothing. trace() returns whether it is on. Printing
// is its own switch: the tracer also records the calls for the diagram, which the console does
// from its start.
func (rt *Runtime) traceCall(a args) int {
	if a.L.GetTop() == 0 {
		a.L.Push(lua.LBool(rt.tracer.Printing()))
		return 1
	}
	if lua.LVAsBool(a.L.Get(1)) {
		if !rt.tracer.Printing() {
			rt.tracer.Start(rt.stderr())
		}
	} else {
		rt.stopTrace()
	}
	return 0
}

var wireBinding = binding{name: "wire", fn: (*Runtime).wireCall, help: helpEntry{
	"wire(on)", "trace, and print the packets that cross lo for these sockets (needs CAP_NET_RAW) and every LAN of a lab (always allowed)",
	"whether lo is captured (when it cannot be, one line says why; a lab's LANs are captured all the same)", ""}}

// wireCall is wire(on): the call trace plus the packets that cross the loopback interface. When
// capture is not permitted it says so in one line, keeps the trace on and returns false.
func (rt *Runtime) wireCall(a args) int {
	switch {
	case !lua.LVAsBool(a.L.Get(1)):
		rt.stopTrace()
		a.L.Push(lua.LFalse)
	default:
		a.L.Push(lua.LBool(rt.StartWire(rt.stderr()) == nil))
	}
	return 1
}

// StartTrace turns on the strace-format call trace of L's sockets, writing to w.
func (rt *Runtime) StartTrace(w io.Writer) { rt.tracer.Start(w) }

// Idle tells the wire view whether the program waits for its user (the console's prompt): while
// it does, packets are printed as they cross, not after the next call.
func (rt *Runtime) Idle(idle bool) { rt.tracer.SetIdle(idle) }

// FlushWire hands on every frame the captures hold, to the pcap file and the picture, and prints
// the packets the wire view still holds, when it is on.
func (rt *Runtime) FlushWire() { rt.tracer.Flush() }

// StartWire turns on the call trace and the wire view, writing to w: the packets on lo, and on
// every LAN of the labs, now and to come. When capture on lo is not permitted (no CAP_NET_RAW)
// it writes one line saying so to w and returns the error; the trace stays on, and the labs are
// still captured: in their namespaces, which udplab made, the user may capture.
func (rt *Runtime) StartWire(w io.Writer) error {
	rt.tracer.Start(w)
	return rt.startCaptures(w)
}

// startCaptures starts capturing (for the wire view, or a pcap file) lo and every LAN of the
// labs, now and to come; when lo cannot be captured it says so to w and returns the error.
func (rt *Runtime) startCaptures(w io.Writer) error {
	rt.mu.Lock()
	var labs []*lab.Network
	if !rt.wire {
		labs = append(labs, rt.labs...)
	}
	rt.wire = true
	rt.mu.Unlock()
	for _, n := range labs {
		rt.captureLab(n)
	}
	if rt.wireLo {
		return nil
	}
	capture, err := sock.OpenCapture("lo")
	if err != nil {
		why := describeError(err)
		if e := sock.ErrnoOf(err); e == unix.EPERM || e == unix.EACCES {
			why = "capturing on lo needs CAP_NET_RAW (" + why + ")"
		}
		if !rt.loRefusalShown { // once: --wire and --pcap each ask for lo
			rt.loRefusalShown = true
			fmt.Fprintf(w, "udplab: no capture of lo: %s; a lab's LANs are still captured\n", why)
		}
		return err
	}
	rt.tracer.AddCapture(capture)
	rt.wireLo = true
	return nil
}

// stopTrace turns the trace and the wire view off; the captures go on while a pcap file is
// being written.
func (rt *Runtime) stopTrace() {
	rt.mu.Lock()
	keep := rt.pcap != nil
	if !keep {
		rt.wire, rt.wireLo = false, false
	}
	rt.mu.Unlock()
	if keep {
		rt.tracer.StopPrinting()
		return
	}
	rt.tracer.Stop()
}

// describeError is an error in C's words where it carries an errno: "socket: Operation not
// permitted".
func describeError(err error) string {
	var se *os.SyscallError
	if e := sock.ErrnoOf(err); e != 0 && errors.As(err, &se) {
		return se.Syscall + ": " + sock.Strerror(e)
	}
	return err.Error()
}

var recverrBinding = binding{name: "recverr", method: true, fn: (*Runtime).recverrCall, help: helpEntry{
	"recverr(s)", "read one entry of the error queue (set IP_RECVERR first): the ICMP behind an error",
	"{errno, origin, type, code, offender, info, data, payload, message}; nil, message, errno when empty",
	"EAGAIN (11)  the error queue is empty (or IP_RECVERR is off)"}}

// recverrCall is recverr(s): one entry of the socket's error queue (IP_RECVERR must be on), as a
// table {errno=111, origin="icmp", type=3, code=3, offender="127.0.0.1", info=0, data=0,
// payload="g1", message="ICMP destination unreachable (type 3), port unreachable (code 3) from
// 127.0.0.1"}, or nil, "Resource temporarily unavailable", 11 when the queue is empty.
func (rt *Runtime) recverrCall(a args) int {
	L := a.L
	e, err := a.socket(1).conn.Recverr()
	if err != nil {
		return pushFailure(L, err)
	}
	t := L.CreateTable(0, 9)
	t.RawSetString("errno", intValue(int(e.Errno)))
	t.RawSetString("origin", lua.LString(e.OriginName()))
	t.RawSetString("type", intValue(int(e.Type)))
	t.RawSetString("code", intValue(int(e.Code)))
	t.RawSetString("info", lua.LNumber(e.Info))
	t.RawSetString("data", lua.LNumber(e.Data))
	if e.Offender.IsValid() {
		t.RawSetString("offender", lua.LString(e.Offender.String()))
	}
	t.RawSetString("payload", lua.LString(e.Payload))
	t.RawSetString("message", lua.LString(e.Describe()))
	L.Push(t)
	return 1
}
