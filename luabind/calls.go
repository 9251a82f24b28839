package luabind

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// socketTypeName is the registry name of the socket metatable; its __name, used in argument
// errors ("socket expected, got nil"), is "socket".
const socketTypeName = "udplab.socket"

// smallInts holds boxed Lua numbers for small integers, so returning a byte count or a 0 does
// not allocate.
var smallInts = func() (v [4097]lua.LValue) {
	for i := range v {
		v[i] = lua.LNumber(i)
	}
	return v
}()

// intValue returns n as a Lua number.
func intValue(n int) lua.LValue {
	if n >= 0 && n < len(smallInts) {
		return smallInts[n]
	}
	return lua.LNumber(n)
}

// pushFailure pushes the luaposix failure triple for err: nil, the C error text, the errno. An
// error that is not an errno (a cancelled wait) raises instead.
func pushFailure(L *lua.LState, err error) int {
	e := sock.ErrnoOf(err)
	if e == 0 {
		L.RaiseError("%s", err.Error())
	}
	L.Push(lua.LNil)
	L.Push(lua.LString(sock.Strerror(e)))
	L.Push(intValue(int(e)))
	return 3
}

// pushZero pushes the 0 that bind, connect, close and setsockopt return on success, or the
// failure triple.
func pushZero(L *lua.LState, err error) int {
	if err != nil {
		return pushFailure(L, err)
	}
	L.Push(smallInts[0])
	return 1
}

// checkSocket returns the socket at argument n.
func checkSocket(L *lua.LState, n int, fname string) *socket {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if s, ok := ud.Value.(*socket); ok {
			return s
		}
	}
	typeError(L, n, fname, "socket")
	return nil
}

// bytesOf returns the bytes of s without copying them: for a call that only reads them and keeps
// no reference once it returns.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// checkData returns argument n, the data to send, as a string.
func checkData(L *lua.LState, n int, fname string) string {
	if s, ok := L.Get(n).(lua.LString); ok {
		return string(s)
	}
	return checkString(L, n, fname)
}

func (rt *Runtime) socketCall(L *lua.LState) int {
	family := checkInt(L, 1, "socket")
	sotype := checkInt(L, 2, "socket")
	protocol := optInt(L, 3, "socket", 0)
	c, err := sock.Socket(family, sotype, protocol)
	if err != nil {
		return pushFailure(L, err)
	}
	ud := L.NewUserData()
	s := &socket{conn: c, ud: ud}
	ud.Value = s
	ud.Metatable = rt.socketMT
	rt.track(s)
	L.Push(ud)
	return 1
}

func (rt *Runtime) bindCall(L *lua.LState) int {
	s := checkSocket(L, 1, "bind")
	a, _ := rt.checkAddr(L, 2, "bind", s.conn.Family())
	return pushZero(L, s.conn.Bind(a))
}

func (rt *Runtime) connectCall(L *lua.LState) int {
	s := checkSocket(L, 1, "connect")
	a, _ := rt.checkAddr(L, 2, "connect", s.conn.Family())
	return pushZero(L, s.conn.Connect(a))
}

func (rt *Runtime) sendCall(L *lua.LState) int {
	s := checkSocket(L, 1, "send")
	data := checkData(L, 2, "send")
	flags := optInt(L, 3, "send", 0)
	for {
		n, err := s.conn.Send(rt.waitContext(L), bytesOf(data), flags)
		if err == nil {
			L.Push(intValue(n))
			return 1
		}
		if !rt.interrupted(L, err) {
			return pushFailure(L, err)
		}
	}
}

func (rt *Runtime) sendtoCall(L *lua.LState) int {
	s := checkSocket(L, 1, "sendto")
	data := checkData(L, 2, "sendto")
	to, next := rt.checkAddr(L, 3, "sendto", s.conn.Family())
	flags := optInt(L, next, "sendto", 0)
	for {
		n, err := s.conn.Sendto(rt.waitContext(L), bytesOf(data), flags, to)
		if err == nil {
			L.Push(intValue(n))
			return 1
		}
		if !rt.interrupted(L, err) {
			return pushFailure(L, err)
		}
	}
}

// checkMaxlen reads a receive's maxlen, capped at the largest datagram so that a huge one costs
// no memory.
func (rt *Runtime) checkMaxlen(L *lua.LState, n int, fname string) []byte {
	maxlen := checkInt(L, n, fname)
	if maxlen < 0 {
		argError(L, n, fname, "maxlen must not be negative")
	}
	if rt.recvBuf == nil {
		rt.recvBuf = make([]byte, maxDatagram)
	}
	return rt.recvBuf[:min(maxlen, maxDatagram)]
}

func (rt *Runtime) recvCall(L *lua.LState) int {
	s := checkSocket(L, 1, "recv")
	buf := rt.checkMaxlen(L, 2, "recv")
	flags := optInt(L, 3, "recv", 0)
	for {
		n, err := s.conn.Recv(rt.waitContext(L), buf, flags)
		if err == nil {
			L.Push(lua.LString(buf[:min(n, len(buf))]))
			return 1
		}
		if !rt.interrupted(L, err) {
			return pushFailure(L, err)
		}
	}
}

func (rt *Runtime) recvfromCall(L *lua.LState) int {
	s := checkSocket(L, 1, "recvfrom")
	buf := rt.checkMaxlen(L, 2, "recvfrom")
	flags := optInt(L, 3, "recvfrom", 0)
	for {
		n, from, err := s.conn.Recvfrom(rt.waitContext(L), buf, flags)
		if err == nil {
			L.Push(lua.LString(buf[:min(n, len(buf))]))
			rt.pushAddr(L, from)
			return 2
		}
		if !rt.interrupted(L, err) {
			return pushFailure(L, err)
		}
	}
}

func (rt *Runtime) closeCall(L *lua.LState) int {
	s := checkSocket(L, 1, "close")
	err := s.conn.Close()
	if err == nil {
		rt.untrack(s)
	}
	return pushZero(L, err)
}

func (rt *Runtime) getsocknameCall(L *lua.LState) int {
	s := checkSocket(L, 1, "getsockname")
	a, err := s.conn.Getsockname()
	if err != nil {
		return pushFailure(L, err)
	}
	rt.pushAddr(L, a)
	return 1
}

func (rt *Runtime) getpeernameCall(L *lua.LState) int {
	s := checkSocket(L, 1, "getpeername")
	a, err := s.conn.Getpeername()
	if err != nil {
		return pushFailure(L, err)
	}
	rt.pushAddr(L, a)
	return 1
}

// maxTimeout is the longest timeout settimeout honours; a longer one means no timeout, as the
// kernel treats an SO_RCVTIMEO too large to represent.
const maxTimeout = 1e9 // seconds, about 31 years

// checkSeconds reads a timeout in seconds: nil and 0 mean none.
func checkSeconds(L *lua.LState, n int, fname string) time.Duration {
	if L.Get(n) == lua.LNil {
		return 0
	}
	secs := checkNumber(L, n, fname)
	if math.IsNaN(secs) || secs < 0 {
		argError(L, n, fname, "timeout must be a number of seconds, 0 or more")
	}
	if secs > maxTimeout {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}

func (rt *Runtime) settimeoutCall(L *lua.LState) int {
	s := checkSocket(L, 1, "settimeout")
	return pushZero(L, s.conn.SetReadTimeout(checkSeconds(L, 2, "settimeout")))
}

func (rt *Runtime) pollCall(L *lua.LState) int {
	list := checkTable(L, 1, "poll")
	timeout := time.Duration(-1)
	if L.Get(2) != lua.LNil {
		secs := checkNumber(L, 2, "poll")
		if math.IsNaN(secs) || secs < 0 {
			argError(L, 2, "poll", "timeout must be a number of seconds, 0 or more")
		}
		if secs <= maxTimeout {
			timeout = time.Duration(secs * float64(time.Second))
		}
	}
	socks := make([]*socket, list.Len())
	conns := make([]*sock.Conn, len(socks))
	for i := range socks {
		v := list.RawGetInt(i + 1)
		ud, _ := v.(*lua.LUserData)
		if ud != nil {
			socks[i], _ = ud.Value.(*socket)
		}
		if socks[i] == nil {
			argError(L, 1, "poll", fmt.Sprintf("socket expected at index %d, got %s", i+1, v.Type()))
		}
		conns[i] = socks[i].conn
	}
	for {
		ready, err := sock.Poll(rt.waitContext(L), conns, timeout)
		if err == nil {
			t := L.CreateTable(len(ready), 0)
			for i, r := range ready {
				if r {
					t.Append(socks[i].ud)
				}
			}
			L.Push(t)
			return 1
		}
		if !rt.interrupted(L, err) {
			return pushFailure(L, err)
		}
	}
}

func (rt *Runtime) socketsCall(L *lua.LState) int {
	rt.mu.Lock()
	open := append([]*socket(nil), rt.sockets...)
	rt.mu.Unlock()
	t := L.CreateTable(len(open), 0)
	for _, s := range open {
		t.Append(s.ud)
	}
	L.Push(t)
	return 1
}

func (rt *Runtime) filenoCall(L *lua.LState) int {
	s := checkSocket(L, 1, "fileno")
	if s.conn.Closed() {
		return pushFailure(L, unix.EBADF)
	}
	L.Push(intValue(s.conn.FD()))
	return 1
}

// socketString is a socket's __tostring:
// socket(fd=3, AF_INET, SOCK_DGRAM, bound 0.0.0.0:43211, connected 127.0.0.1:43211).
func socketString(L *lua.LState) int {
	s := checkSocket(L, 1, "tostring")
	c := s.conn
	if c.Closed() {
		L.Push(lua.LString("socket(closed)"))
		return 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "socket(fd=%d, %s, %s", c.FD(), familyName(c.Family()), sotypeName(c.Type()))
	if a, err := c.Getsockname(); err == nil && a.Port() != 0 {
		fmt.Fprintf(&b, ", bound %s", a)
	}
	if a, err := c.Getpeername(); err == nil {
		fmt.Fprintf(&b, ", connected %s", a)
	}
	b.WriteString(")")
	L.Push(lua.LString(b.String()))
	return 1
}

// sotypeName names a socket type.
func sotypeName(sotype int) string {
	switch sotype {
	case unix.SOCK_DGRAM:
		return "SOCK_DGRAM"
	case unix.SOCK_STREAM:
		return "SOCK_STREAM"
	case unix.SOCK_RAW:
		return "SOCK_RAW"
	}
	return fmt.Sprint(sotype)
}
