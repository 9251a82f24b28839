package luabind

import (
	"fmt"
	"io"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/sock"
)

// traceCall is trace(on): the strace-format call trace on stderr, on or off. It returns whether
// it was on.
func (rt *Runtime) traceCall(L *lua.LState) int {
	was := sock.Tracing()
	if lua.LVAsBool(L.Get(1)) {
		if !was {
			sock.SetTrace(rt.stderr())
		}
	} else {
		sock.SetTrace(nil)
	}
	L.Push(lua.LBool(was))
	return 1
}

// wireCall is wire(on): the call trace plus the packets that cross the loopback interface. When
// capture is not permitted it says so in one line, keeps the trace on and returns false.
func (rt *Runtime) wireCall(L *lua.LState) int {
	if !lua.LVAsBool(L.Get(1)) {
		sock.SetTrace(nil)
		L.Push(lua.LFalse)
		return 1
	}
	if sock.Wiring() {
		L.Push(lua.LTrue)
		return 1
	}
	if err := StartWire(rt.stderr()); err != nil {
		L.Push(lua.LFalse)
		return 1
	}
	L.Push(lua.LTrue)
	return 1
}

// StartTrace turns on the strace-format call trace, writing to w.
func StartTrace(w io.Writer) { sock.SetTrace(w) }

// FlushWire prints the packets the wire view still holds, when it is on.
func FlushWire() { sock.FlushWire() }

// StartWire turns on the call trace and the wire view, writing to w. When capture is not
// permitted (no CAP_NET_RAW) it writes one line saying so to w and returns the error; the trace
// stays on.
func StartWire(w io.Writer) error {
	err := sock.StartWire(w)
	if err != nil {
		fmt.Fprintf(w, "udplab: no wire view: capturing on lo needs CAP_NET_RAW (%s: %s); tracing calls only\n",
			"socket(AF_PACKET)", sock.Strerror(sock.ErrnoOf(err)))
	}
	return err
}

// recverrCall is recverr(s): one entry of the socket's error queue (IP_RECVERR must be on), as a
// table {errno=111, origin="icmp", type=3, code=3, offender="127.0.0.1", info=0, data=0,
// payload="g1", message="ICMP destination unreachable (type 3), port unreachable (code 3) from
// 127.0.0.1"}, or nil, "Resource temporarily unavailable", 11 when the queue is empty.
func (rt *Runtime) recverrCall(L *lua.LState) int {
	s := checkSocket(L, 1, "recverr")
	e, err := s.conn.Recverr()
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
