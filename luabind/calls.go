package luabind

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// socketTypeName is the registry name of the socket metatable; its __name, used in argument
// errors ("socket expected, got nil"), is "socket".
const socketTypeName = "udplab.socket"

// smallNumbers backs the boxed Lua numbers intValue returns for small integers, so that
// returning a byte count or a 0 does not allocate: each points into it instead of a heap
// allocation of its own, as gopher-lua's own allocator boxes numbers (alloc.go). An entry holds
// its number's bits from the first time it is boxed (a compare-and-swap from 0, the bits of
// 0.0, so that Lua states on other goroutines only ever read what is there), so that starting
// udplab touches none of its 32 kB.
var smallNumbers [4097]uint64

// eface is the layout of a Go interface value: its type, then a pointer to its data.
type eface struct {
	typ, data unsafe.Pointer
}

// intValue returns n as a Lua number.
func intValue(n int) lua.LValue {
	if n < 0 || n >= len(smallNumbers) {
		return lua.LNumber(n)
	}
	p := &smallNumbers[n]
	if n != 0 && atomic.LoadUint64(p) == 0 {
		atomic.CompareAndSwapUint64(p, 0, math.Float64bits(float64(n)))
	}
	v := lua.LValue(lua.LNumber(0))
	(*eface)(unsafe.Pointer(&v)).data = unsafe.Pointer(p)
	return v
}

// stringValue returns a copy of b as a Lua string in one allocation. Boxing a Go string as a
// Lua value takes two (its bytes, then a 16-byte header for the interface to point to); here the
// header leads the block that holds the bytes, and points into it. The block holds no pointer
// the collector must follow: its header's only points to itself, kept alive by the interface
// value, and a substring of it keeps it alive as any pointer into a block does.
func stringValue(b []byte) lua.LValue {
	if len(b) == 0 {
		return lua.LValue(lua.LString(""))
	}
	const header = int(unsafe.Sizeof(""))
	block := make([]byte, header+len(b))
	copy(block[header:], b)
	s := (*string)(unsafe.Pointer(&block[0]))
	*s = unsafe.String(&block[header], len(b))
	v := lua.LValue(lua.LString(""))
	(*eface)(unsafe.Pointer(&v)).data = unsafe.Pointer(s)
	return v
}

// received returns data as a Lua string: the one s received last when the same bytes came
// again, as a server's requests or a peer's replies often do. Lua cannot tell one string from
// another of the same bytes, so this is PUC Lua's interning of short strings, for the one string
// most likely to come again: it costs a comparison when the lengths match, and saves the
// allocation, the copy and the collection when it matches.
func (s *socket) received(data []byte) lua.LValue {
	if last, ok := s.last.(lua.LString); ok && len(last) == len(data) && string(last) == string(data) {
		return s.last
	}
	s.last = stringValue(data)
	return s.last
}

// pushFailure pushes the luaposix failure triple for err: nil, the C error text, the errno. An
// error that is not an errno (a cancelled wait) raises instead.
func pushFailure(L *lua.LState, err error) int {
	e := sock.ErrnoOf(err)
	if e == 0 {
		L.RaiseError("%s", err.Error())
	}
	L.Push(lua.LNil)
	L.Push(strerrorValue(e))
	L.Push(intValue(int(e)))
	return 3
}

// strerrorValues are the errno texts as Lua strings, boxed once: a call that fails in a loop
// (EAGAIN) allocates nothing for its message.
var strerrorValues = sync.OnceValue(func() *[256]lua.LValue {
	var v [256]lua.LValue
	for i := range v {
		v[i] = lua.LString(sock.Strerror(unix.Errno(i)))
	}
	return &v
})

func strerrorValue(e unix.Errno) lua.LValue {
	if int(e) >= 0 && int(e) < 256 {
		return strerrorValues()[e]
	}
	return lua.LString(sock.Strerror(e))
}

// pushZero pushes the 0 that bind, connect, close and setsockopt return on success, or the
// failure triple.
func pushZero(L *lua.LState, err error) int {
	if err != nil {
		return pushFailure(L, err)
	}
	L.Push(intValue(0))
	return 1
}

// bytesOf returns the bytes of s without copying them: for a call that only reads them and keeps
// no reference once it returns.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// blocking runs call, which may wait, under the context blocking calls wait under, and again
// after a Lua signal handler woke it and ran: the one place that decides a call is made again.
func (rt *Runtime) blocking(L *lua.LState, call func(ctx context.Context) error) error {
	for {
		err := call(rt.waitContext(L))
		if err == nil || !rt.interrupted(L, err) {
			return err
		}
	}
}

var socketBinding = binding{name: "socket", fn: (*Runtime).socketCall, help: helpEntry{
	"socket(family, type[, protocol])", "open a socket: socket(AF_INET, SOCK_DGRAM)",
	"a socket; on failure nil, message, errno",
	"EAFNOSUPPORT (97)  the family is not supported\nEMFILE (24)  too many open files\nEPROTONOSUPPORT (93)  no such protocol for this type"}}

func (rt *Runtime) socketCall(a args) int {
	family, sotype, protocol := a.family(1), a.sotype(2), a.optCint(3, 0)
	c, err := sock.Socket(family, sotype, protocol, &rt.sockConfig)
	if err != nil {
		return pushFailure(a.L, err)
	}
	rt.pushSocket(a.L, c)
	return 1
}

// family reads an address family at argument n, refusing AF_PACKET: its addresses are
// link-layer ones, which udplab's calls do not read or write, so such a socket would half work
// (the wire view, --wire, shows the frames).
func (a args) family(n int) int {
	family := a.cint(n)
	if family == unix.AF_PACKET {
		a.argError(n, "udplab has IP sockets only (AF_INET, AF_INET6); --wire shows the frames")
	}
	return family
}

// sotype reads a socket type at argument n, refusing the connection-oriented ones: udplab's calls
// are the datagram calls, and a stream socket would half work.
func (a args) sotype(n int) int {
	sotype := a.cint(n)
	if kind := sotype &^ (unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC); kind == unix.SOCK_STREAM || kind == unix.SOCK_SEQPACKET {
		a.argError(n, "udplab has datagram sockets only (SOCK_DGRAM)")
	}
	return sotype
}

// pushSocket pushes the Lua value of c, a socket the runtime now owns.
func (rt *Runtime) pushSocket(L *lua.LState, c *sock.Conn) {
	ud := L.NewUserData()
	s := &socket{conn: c, ud: ud}
	ud.Value = s
	ud.Metatable = rt.socketMT
	rt.track(s)
	L.Push(ud)
}

var bindBinding = binding{name: "bind", method: true, fn: (*Runtime).bindCall, help: helpEntry{
	"bind(s, host, port) | bind(s, \"host:port\") | bind(s, addr)", "give the socket its local address; port 0 lets the kernel pick",
	"0; on failure nil, message, errno",
	"EADDRINUSE (98)  another socket has that address\nEADDRNOTAVAIL (99)  no interface has that address\nEACCES (13)  a port below 1024 needs privilege\nEINVAL (22)  the socket is already bound"}}

func (rt *Runtime) bindCall(a args) int {
	s := a.socket(1)
	addr, _ := rt.checkAddr(a, 2, s.conn.Family())
	return pushZero(a.L, s.conn.Bind(addr))
}

var connectBinding = binding{name: "connect", method: true, fn: (*Runtime).connectCall, help: helpEntry{
	"connect(s, host, port) | connect(s, \"host:port\") | connect(s, addr) | connect(s, {family=AF_UNSPEC})",
	"on UDP: record the peer (nothing is sent); AF_UNSPEC dissolves the association",
	"0; on failure nil, message, errno",
	"EACCES (13)  a broadcast address without SO_BROADCAST\nENETUNREACH (101)  no route to that address\nEAFNOSUPPORT (97)  an address of the wrong family"}}

func (rt *Runtime) connectCall(a args) int {
	s := a.socket(1)
	addr, _ := rt.checkAddr(a, 2, s.conn.Family())
	return pushZero(a.L, s.conn.Connect(addr))
}

var sendBinding = binding{name: "send", method: true, fn: (*Runtime).sendCall, help: helpEntry{
	"send(s, data[, flags])", "send data as one datagram to the connected peer",
	"the number of bytes sent; on failure nil, message, errno",
	"EDESTADDRREQ (89)  the socket is not connected\nECONNREFUSED (111)  an earlier datagram was refused (ICMP port unreachable)\nEHOSTUNREACH (113)  an earlier datagram brought back an ICMP error (see help(recv))\nEMSGSIZE (90)  the datagram is too large\nEAGAIN (11)  with MSG_DONTWAIT, the send buffer is full"}}

func (rt *Runtime) sendCall(a args) int {
	s := a.socket(1)
	data := bytesOf(a.string(2))
	flags := a.optCint(3, 0)
	var n int
	err := rt.blocking(a.L, func(ctx context.Context) (err error) {
		n, err = s.conn.Send(ctx, data, flags)
		return err
	})
	return pushCount(a.L, n, err)
}

// pushCount pushes the byte count a send returns, or the failure triple.
func pushCount(L *lua.LState, n int, err error) int {
	if err != nil {
		return pushFailure(L, err)
	}
	L.Push(intValue(n))
	return 1
}

var sendtoBinding = binding{name: "sendto", method: true, fn: (*Runtime).sendtoCall, help: helpEntry{
	"sendto(s, data, host, port[, flags]) | sendto(s, data, \"host:port\"[, flags]) | sendto(s, data, addr[, flags])",
	"send data as one datagram to the address given (on Linux, even on a connected socket)",
	"the number of bytes sent; on failure nil, message, errno",
	"EACCES (13)  a broadcast address without SO_BROADCAST\nECONNREFUSED (111)  an earlier datagram was refused (connected socket)\nEHOSTUNREACH (113)  an earlier datagram brought back an ICMP error (see help(recv))\nEMSGSIZE (90)  the datagram is too large\nENETUNREACH (101)  no route to that address"}}

func (rt *Runtime) sendtoCall(a args) int {
	s := a.socket(1)
	data := bytesOf(a.string(2))
	to, next := rt.checkAddr(a, 3, s.conn.Family())
	flags := a.optCint(next, 0)
	var n int
	err := rt.blocking(a.L, func(ctx context.Context) (err error) {
		n, err = s.conn.Sendto(ctx, data, flags, to)
		return err
	})
	return pushCount(a.L, n, err)
}

// checkMaxlen reads a receive's maxlen, capped at the largest datagram so that a huge one costs
// no memory.
func (rt *Runtime) checkMaxlen(a args, n int) []byte {
	maxlen := a.int(n)
	if maxlen < 0 {
		a.argError(n, "maxlen must not be negative")
	}
	if rt.recvBuf == nil {
		rt.recvBuf = make([]byte, maxDatagram)
	}
	return rt.recvBuf[:min(maxlen, maxDatagram)]
}

var recvBinding = binding{name: "recv", method: true, fn: (*Runtime).recvCall, help: helpEntry{
	"recv(s, maxlen[, flags])", "receive one datagram (at most maxlen bytes of it, the rest is lost); blocks unless MSG_DONTWAIT or a timeout",
	"the data (an empty datagram is \"\"), and with MSG_TRUNC the datagram's real length; on failure nil, message, errno",
	"ECONNREFUSED (111)  the peer's port is closed: an ICMP port unreachable came back (connected socket, reported once)\n" + hostUnreachable +
		"\nEAGAIN (11)  the timeout passed (settimeout): nothing came back, as when a firewall drops; or MSG_DONTWAIT found nothing\nEBADF (9)  the socket is closed"}}

// hostUnreachable is the EHOSTUNREACH of a receive: which ICMP errors bring it (udp(7); soft
// errors reach the socket only with IP_RECVERR).
const hostUnreachable = "EHOSTUNREACH (113)  an ICMP error came back: administratively prohibited (a firewall that rejects); with IP_RECVERR also host unreachable (ARP got no answer: the host is down) and time exceeded (the TTL ran out)"

func (rt *Runtime) recvCall(a args) int {
	s := a.socket(1)
	buf := rt.checkMaxlen(a, 2)
	flags := a.optCint(3, 0)
	var n int
	err := rt.blocking(a.L, func(ctx context.Context) (err error) {
		n, err = s.conn.Recv(ctx, buf, flags)
		return err
	})
	if err != nil {
		return pushFailure(a.L, err)
	}
	a.L.Push(s.received(buf[:min(n, len(buf))]))
	if flags&unix.MSG_TRUNC != 0 {
		a.L.Push(intValue(n)) // the datagram's real length, which MSG_TRUNC asked for
		return 2
	}
	return 1
}

var recvfromBinding = binding{name: "recvfrom", method: true, fn: (*Runtime).recvfromCall, help: helpEntry{
	"recvfrom(s, maxlen[, flags])", "receive one datagram and the address it came from",
	"data, address, and with MSG_TRUNC the datagram's real length; on failure nil, message, errno",
	"ECONNREFUSED (111)  an ICMP port unreachable came back (connected socket, reported once)\n" + hostUnreachable +
		"\nEAGAIN (11)  the timeout passed (settimeout) or MSG_DONTWAIT found nothing\nEBADF (9)  the socket is closed"}}

func (rt *Runtime) recvfromCall(a args) int {
	s := a.socket(1)
	buf := rt.checkMaxlen(a, 2)
	flags := a.optCint(3, 0)
	var n int
	var from *sock.Addr
	err := rt.blocking(a.L, func(ctx context.Context) (err error) {
		n, from, err = s.conn.Recvfrom(ctx, buf, flags)
		return err
	})
	if err != nil {
		return pushFailure(a.L, err)
	}
	a.L.Push(s.received(buf[:min(n, len(buf))]))
	rt.pushSender(a.L, s, from)
	if flags&unix.MSG_TRUNC != 0 {
		a.L.Push(intValue(n))
		return 3
	}
	return 2
}

// pushSender pushes the address table of a datagram's sender: the one pushed last on s when the
// same peer sent again and the table still says so, so that a server's receive loop makes no
// table (and getsockname-style equality holds by identity too).
func (rt *Runtime) pushSender(L *lua.LState, s *socket, from *sock.Addr) {
	if t := s.fromTable; t != nil && from == s.from && t.RawGetString("family") == s.fromFields[0] &&
		t.RawGetString("addr") == s.fromFields[1] && t.RawGetString("port") == s.fromFields[2] {
		L.Push(t)
		return
	}
	rt.pushAddr(L, from)
	t, _ := L.Get(-1).(*lua.LTable)
	s.from, s.fromTable = from, t
	s.fromFields = [3]lua.LValue{t.RawGetString("family"), t.RawGetString("addr"), t.RawGetString("port")}
}

var closeBinding = binding{name: "close", method: true, fn: (*Runtime).closeCall, help: helpEntry{
	"close(s)", "close the socket", "0; on failure nil, message, errno",
	"EBADF (9)  the socket is already closed"}}

func (rt *Runtime) closeCall(a args) int {
	s := a.socket(1)
	first := !s.conn.Closed()
	err := s.conn.Close()
	if first {
		rt.untrack(s) // closed now, even if close(2) reported an error
	}
	return pushZero(a.L, err)
}

var getsocknameBinding = binding{name: "getsockname", method: true, fn: (*Runtime).getsocknameCall, help: helpEntry{
	"getsockname(s)", "the socket's local address", "an address; on failure nil, message, errno",
	"EBADF (9)  the socket is closed"}}

func (rt *Runtime) getsocknameCall(a args) int {
	addr, err := a.socket(1).conn.Getsockname()
	if err != nil {
		return pushFailure(a.L, err)
	}
	rt.pushAddr(a.L, addr)
	return 1
}

var getpeernameBinding = binding{name: "getpeername", method: true, fn: (*Runtime).getpeernameCall, help: helpEntry{
	"getpeername(s)", "the peer a connected socket records", "an address; on failure nil, message, errno",
	"ENOTCONN (107)  the socket is not connected\nEBADF (9)  the socket is closed"}}

func (rt *Runtime) getpeernameCall(a args) int {
	addr, err := a.socket(1).conn.Getpeername()
	if err != nil {
		return pushFailure(a.L, err)
	}
	rt.pushAddr(a.L, addr)
	return 1
}

// maxTimeout is the longest timeout settimeout honours; a longer one means no timeout, as the
// kernel treats an SO_RCVTIMEO too large to represent.
const maxTimeout = 1e9 // seconds, about 31 years

// seconds reads a timeout in seconds at argument n: nil and 0 mean none.
func (a args) seconds(n int) time.Duration {
	if a.L.Get(n) == lua.LNil {
		return 0
	}
	secs := a.number(n)
	if math.IsNaN(secs) || secs < 0 {
		a.argError(n, "timeout must be a number of seconds, 0 or more")
	}
	if secs > maxTimeout {
		return 0
	}
	return time.Duration(secs * float64(time.Second))
}

var settimeoutBinding = binding{name: "settimeout", method: true, fn: (*Runtime).settimeoutCall, help: helpEntry{
	"settimeout(s, seconds)", "bound every later receive, as SO_RCVTIMEO does; 0 or nil: no timeout",
	"0; on failure nil, message, errno", "EBADF (9)  the socket is closed"}}

func (rt *Runtime) settimeoutCall(a args) int {
	s := a.socket(1)
	return pushZero(a.L, s.conn.SetReadTimeout(a.seconds(2)))
}

var pollBinding = binding{name: "poll", fn: (*Runtime).pollCall, help: helpEntry{
	"poll({s1, s2, ...}[, seconds])", "wait until some of the sockets are readable (a datagram or a pending error)",
	"the table of readable sockets, empty on timeout; on failure nil, message, errno",
	"EBADF (9)  a socket in the list is closed"}}

func (rt *Runtime) pollCall(a args) int {
	L := a.L
	list := a.table(1)
	timeout := time.Duration(-1)
	if L.Get(2) != lua.LNil {
		d := a.seconds(2)
		if a.number(2) <= maxTimeout {
			timeout = d
		}
	}
	n := list.Len()
	if cap(rt.pollSocks) < n {
		rt.pollSocks, rt.pollConns = make([]*socket, n), make([]*sock.Conn, n)
	}
	socks, conns := rt.pollSocks[:n], rt.pollConns[:n]
	for i := range socks {
		v := list.RawGetInt(i + 1)
		ud, _ := v.(*lua.LUserData)
		if ud != nil {
			socks[i], _ = ud.Value.(*socket)
		}
		if socks[i] == nil {
			a.argError(1, fmt.Sprintf("socket expected at index %d, got %s", i+1, v.Type()))
		}
		conns[i] = socks[i].conn
	}
	var ready []bool
	err := rt.blocking(L, func(ctx context.Context) (err error) {
		ready, err = rt.poller.Poll(ctx, conns, timeout)
		return err
	})
	if err != nil {
		return pushFailure(L, err)
	}
	count := 0
	for _, r := range ready {
		if r {
			count++
		}
	}
	t := L.CreateTable(count, 0)
	for i, r := range ready {
		if r {
			t.Append(socks[i].ud)
		}
	}
	clear(socks) // drop the references until the next poll
	clear(conns)
	L.Push(t)
	return 1
}

var socketsBinding = binding{name: "sockets", fn: (*Runtime).socketsCall, help: helpEntry{
	"sockets()", "the sockets open now", "a table of sockets", ""}}

func (rt *Runtime) socketsCall(a args) int {
	rt.mu.Lock()
	open := append([]*socket(nil), rt.sockets...)
	rt.mu.Unlock()
	t := a.L.CreateTable(len(open), 0)
	for _, s := range open {
		t.Append(s.ud)
	}
	a.L.Push(t)
	return 1
}

var filenoBinding = binding{name: "fileno", method: true, fn: (*Runtime).filenoCall, help: helpEntry{
	"fileno(s)", "the socket's file descriptor number", "a number; nil, message, errno if closed", "EBADF (9)  the socket is closed"}}

func (rt *Runtime) filenoCall(a args) int {
	s := a.socket(1)
	if s.conn.Closed() {
		return pushFailure(a.L, unix.EBADF)
	}
	a.L.Push(intValue(s.conn.FD()))
	return 1
}

// socketString is a socket's __tostring:
// socket(fd=3, AF_INET, SOCK_DGRAM, bound 0.0.0.0:43211, connected 127.0.0.1:43211). It reads
// the addresses without tracing: showing a socket is not a call the script made.
func socketString(L *lua.LState) int {
	c := args{L, "tostring"}.socket(1).conn
	if c.Closed() {
		L.Push(lua.LString("socket(closed)"))
		return 1
	}
	var b strings.Builder
	fmt.Fprintf(&b, "socket(fd=%d, %s, %s", c.FD(), sock.FamilyName(c.Family()), sock.TypeName(c.Type()))
	if c.Host() != "" {
		fmt.Fprintf(&b, ", in %s", c.Host())
	}
	if a, err := c.LocalAddr(); err == nil && a.Port() != 0 {
		fmt.Fprintf(&b, ", bound %s", a)
	}
	if a, err := c.RemoteAddr(); err == nil {
		fmt.Fprintf(&b, ", connected %s", a)
	}
	b.WriteString(")")
	L.Push(lua.LString(b.String()))
	return 1
}
