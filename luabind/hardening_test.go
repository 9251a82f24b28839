package luabind

import (
	"bytes"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	lua54 "github.com/udplab/udplab/lua"
)

// prelude opens the sockets every bad-input case may use: s, bound to loopback with a short
// timeout; closed, a closed socket; here, s's address.
const prelude = `
	s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); settimeout(s, 0.2)
	closed = socket(AF_INET, SOCK_DGRAM); close(closed)
	here = getsockname(s)
`

// badInputs are misuses of every call, each with its exact outcome: "raise: <message>" for an
// argument error (PUC Lua's form), else what the chunk prints (luaposix's nil, text, errno for
// a failed system call). None may panic, leak a Go stack, or succeed silently.
var badInputs = []struct{ code, want string }{
	// socket
	{`socket()`, "raise: bad argument #1 to 'socket' (number expected, got no value)"},
	{`socket("inet", SOCK_DGRAM)`, "raise: bad argument #1 to 'socket' (number expected, got string)"},
	{`socket(AF_INET, nil)`, "raise: bad argument #2 to 'socket' (number expected, got nil)"},
	{`socket(AF_INET, SOCK_DGRAM, {})`, "raise: bad argument #3 to 'socket' (number expected, got table)"},
	{`print(socket(12345, SOCK_DGRAM))`, "nil\tAddress family not supported by protocol\t97\n"},
	{`print(socket(AF_INET, 999))`, "nil\tInvalid argument\t22\n"},
	{`print(socket(AF_INET, SOCK_DGRAM, 1.5))`, "raise: bad argument #3 to 'socket' (number has no integer representation)"},
	// nil, wrong and closed sockets
	{`send(nil, "x")`, "raise: bad argument #1 to 'send' (socket expected, got nil)"},
	{`recv({}, 10)`, "raise: bad argument #1 to 'recv' (socket expected, got table)"},
	{`close("s")`, "raise: bad argument #1 to 'close' (socket expected, got string)"},
	{`getsockname(io.stdout)`, "raise: bad argument #1 to 'getsockname' (socket expected, got FILE*)"}, // luaL_typeerror names a userdata by its __name,
	{`print(send(closed, "x"))`, "nil\tBad file descriptor\t9\n"},
	{`print(recv(closed, 10))`, "nil\tBad file descriptor\t9\n"},
	{`print(recvfrom(closed, 10))`, "nil\tBad file descriptor\t9\n"},
	{`print(sendto(closed, "x", here))`, "nil\tBad file descriptor\t9\n"},
	{`print(bind(closed, "127.0.0.1", 0))`, "nil\tBad file descriptor\t9\n"},
	{`print(connect(closed, here))`, "nil\tBad file descriptor\t9\n"},
	{`print(getsockname(closed))`, "nil\tBad file descriptor\t9\n"},
	{`print(getpeername(closed))`, "nil\tBad file descriptor\t9\n"},
	{`print(setsockopt(closed, SOL_SOCKET, SO_BROADCAST, 1))`, "nil\tBad file descriptor\t9\n"},
	{`print(getsockopt(closed, SOL_SOCKET, SO_ERROR))`, "nil\tBad file descriptor\t9\n"},
	{`print(settimeout(closed, 1))`, "nil\tBad file descriptor\t9\n"},
	{`print(close(closed))`, "nil\tBad file descriptor\t9\n"},
	{`print(recverr(closed))`, "nil\tBad file descriptor\t9\n"},
	{`print(fileno(closed))`, "nil\tBad file descriptor\t9\n"},
	// addresses
	{`connect(s, "256.1.1.1", 1)`, `raise: bad argument #2 to 'connect' (invalid IPv4 address "256.1.1.1")`},
	{`connect(s, "1.2.3", 1)`, `raise: bad argument #2 to 'connect' (invalid IPv4 address "1.2.3")`},
	{`connect(s, "", 1)`, "raise: bad argument #2 to 'connect' (empty host name)"},
	{`connect(s, "::g", 1)`, `raise: bad argument #2 to 'connect' (invalid IPv6 address "::g")`},
	{`connect(s, "127.0.0.1:65536")`, "raise: bad argument #2 to 'connect' (port out of range 0..65535)"},
	{`print(connect(s, "127.0.0.1:9"), getpeername(s))`, "0\t127.0.0.1:9\n"}, // the form addresses print as
	{`sendto(s, "x", "no-such-host.invalid", 9)`, `raise: bad argument #3 to 'sendto' (cannot resolve host "no-such-host.invalid": no such host)`},
	{`connect(s, "127.0.0.1", -1)`, "raise: bad argument #3 to 'connect' (port out of range 0..65535)"},
	{`connect(s, "127.0.0.1", 65536)`, "raise: bad argument #3 to 'connect' (port out of range 0..65535)"},
	{`connect(s, "127.0.0.1", 1.5)`, "raise: bad argument #3 to 'connect' (number has no integer representation)"},
	{`connect(s, "127.0.0.1", "http")`, "raise: bad argument #3 to 'connect' (number expected, got string)"},
	{`connect(s, 127001, 1)`, "raise: bad argument #2 to 'connect' (address expected, got number)"},
	{`connect(s, {addr = "127.0.0.1", port = "x"})`, "raise: bad argument #2 to 'connect' (address field 'port' must be an integer in 0..65535)"},
	{`connect(s, {family = "inet", addr = "127.0.0.1"})`, "raise: bad argument #2 to 'connect' (address field 'family' must be an integer)"},
	{`connect(s, {family = AF_INET, addr = "::1", port = 1})`, "raise: bad argument #2 to 'connect' (address ::1 is not of family AF_INET)"},
	{`print(connect(s, "::1", 9))`, "nil\tAddress family not supported by protocol\t97\n"},
	{`print(bind(s, "127.0.0.1", 0))`, "nil\tInvalid argument\t22\n"},
	// send and receive arguments
	{`send(s)`, "raise: bad argument #2 to 'send' (string expected, got no value)"},
	{`send(s, {})`, "raise: bad argument #2 to 'send' (string expected, got table)"},
	{`send(s, "x", "now")`, "raise: bad argument #3 to 'send' (number expected, got string)"},
	{`print(send(s, "x"))`, "nil\tDestination address required\t89\n"},
	{`sendto(s, "x")`, "raise: bad argument #3 to 'sendto' (address expected, got no value)"},
	{`recv(s)`, "raise: bad argument #2 to 'recv' (number expected, got no value)"},
	{`recv(s, -1)`, "raise: bad argument #2 to 'recv' (maxlen must not be negative)"},
	{`recvfrom(s, "lots")`, "raise: bad argument #2 to 'recvfrom' (number expected, got string)"},
	{`sendto(s, "abc", here); print(#recv(s, 0), recv(s, 0, MSG_DONTWAIT))`, "0\tnil\tResource temporarily unavailable\t11\n"},
	{`sendto(s, "abc", here); print(recv(s, 2^40))`, "abc\n"},
	{`sendto(s, "a\0b\0", here); local d = recv(s, 10); print(#d, d == "a\0b\0")`, "4\ttrue\n"},
	{`print(recv(s, 10))`, "nil\tResource temporarily unavailable\t11\n"},
	// timeouts
	{`settimeout(s, -1)`, "raise: bad argument #2 to 'settimeout' (timeout must be a number of seconds, 0 or more)"},
	{`settimeout(s, 0/0)`, "raise: bad argument #2 to 'settimeout' (timeout must be a number of seconds, 0 or more)"},
	{`settimeout(s, "soon")`, "raise: bad argument #2 to 'settimeout' (number expected, got string)"},
	{`print(settimeout(s, 1e300), getsockopt(s, SOL_SOCKET, SO_RCVTIMEO))`, "0\t0\n"},
	// socket options
	{`setsockopt(s, SOL_SOCKET, "SO_NOPE", 1)`, "raise: bad argument #3 to 'setsockopt' (unknown socket option 'SO_NOPE')"},
	{`setsockopt(s, IPPROTO_IP, "SO_BROADCAST", 1)`, "raise: bad argument #3 to 'setsockopt' (SO_BROADCAST is not an option of level IPPROTO_IP)"},
	{`setsockopt(s, SOL_SOCKET, SO_BROADCAST, "yes")`, "raise: bad argument #4 to 'setsockopt' (number expected, got string)"},
	{`setsockopt(s, SOL_SOCKET, SO_BROADCAST)`, "raise: bad argument #4 to 'setsockopt' (number expected, got no value)"},
	{`setsockopt(s, "SOL_SOCKET", SO_BROADCAST, 1)`, "raise: bad argument #2 to 'setsockopt' (number expected, got string)"},
	{`setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, "239.1.2.3")`, "raise: bad argument #4 to 'setsockopt' (table expected, got string)"},
	{`setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, {multiaddr = "nope"})`, `raise: bad argument #4 to 'setsockopt' (invalid IP address "nope")`},
	{`setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, 7)`, `raise: bad argument #4 to 'setsockopt' (invalid IP address "7")`},
	{`print(setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, {multiaddr = "10.0.0.1"}))`, "nil\tInvalid argument\t22\n"},
	{`print(setsockopt(s, SOL_SOCKET, 9999, 1))`, "nil\tProtocol not available\t92\n"},
	{`print(getsockopt(s, 9999, 1))`, "nil\tOperation not supported\t95\n"},
	// poll
	{`print(#poll({}, 0))`, "0\n"},
	{`print(poll({s, closed}, 0))`, "nil\tBad file descriptor\t9\n"},
	{`poll({s, 42}, 0)`, "raise: bad argument #1 to 'poll' (socket expected at index 2, got number)"},
	{`poll(s, 0)`, "raise: bad argument #1 to 'poll' (table expected, got socket)"},
	{`poll({s}, -1)`, "raise: bad argument #2 to 'poll' (timeout must be a number of seconds, 0 or more)"},
	// numbers as Lua reads them, and C ints that fit
	{`bind(s, "127.0.0.1", "4_3_2_1_0")`, "raise: bad argument #3 to 'bind' (number expected, got string)"},
	{`socket(AF_INET, SOCK_DGRAM, "inf")`, "raise: bad argument #3 to 'socket' (number expected, got string)"},
	{`print(bind(socket(AF_INET, SOCK_DGRAM), "127.0.0.1", " 0x0 "))`, "0\n"},
	{`socket(2^32 + AF_INET, SOCK_DGRAM)`, "raise: bad argument #1 to 'socket' (number out of range)"},
	{`sendto(s, "x", here, 2^62)`, "raise: bad argument #4 to 'sendto' (number out of range)"},
	{`recv(s, 10, -2^40)`, "raise: bad argument #3 to 'recv' (number out of range)"},
	{`connect(s, {family = 0.5, addr = "127.0.0.1"})`, "raise: bad argument #2 to 'connect' (address field 'family' must be an integer)"},
	{`connect(s, {family = 0/0, addr = "127.0.0.1"})`, "raise: bad argument #2 to 'connect' (address field 'family' must be an integer)"},
	// string.format, as PUC Lua's
	{`string.format("%d", s)`, "raise: bad argument #2 to 'format' (number expected, got socket)"},
	{`string.format("%s %s", 1)`, "raise: bad argument #3 to 'format' (no value)"},
	{`string.format("%d", 1.5)`, "raise: bad argument #2 to 'format' (number has no integer representation)"},
	{`string.format("%x")`, "raise: bad argument #2 to 'format' (no value)"},
	{`string.format("%123d", 1)`, "raise: invalid conversion specification: '%123d'"},
	{`string.format("%y", 1)`, "raise: invalid conversion '%y' to 'format'"},
	{`print(string.format("%5.2f|%-4d|%04d|%x|%X|%g|%g|%e|%5s|%.2s|%c|%%", 3.14159, 7, -7, 255, -1, 0.1 + 0.2, 1e20, 12345.678, "ab", "xyz", 65))`,
		" 3.14|7   |-007|ff|FFFFFFFFFFFFFFFF|0.3|1e+20|1.234568e+04|   ab|xy|A|%\n"},
	{`print(string.format("%q|%q|%q|%f|%f", "a\n\0b\"", 7, nil, 1/0, -(0/0)))`, "\"a\\\n\\0b\\\"\"|7|nil|inf|nan\n"},
	// math.random over any range
	{`print(math.random(-2^62, 2^62) ~= nil, math.random(3, 3))`, "true\t3\n"},
	{`math.random(2, 1)`, "raise: bad argument #1 to 'random' (interval is empty)"},
	{`math.random(1.5)`, "raise: bad argument #1 to 'random' (number has no integer representation)"},
	// signals no handler can serve
	{`signal(23, print)`, "raise: bad argument #1 to 'signal' (SIGURG cannot be handled: the Go runtime sends it to itself)"},
	{`signal(9, print)`, "raise: bad argument #1 to 'signal' (SIGKILL cannot be handled: the kernel does not let it be caught)"},
	// what the compiler can take
	{`print(load("return " .. string.rep("not ", 300) .. "x"))`, "nil\t[string \"return not not not not not not not not not no...\"]:1: chunk has too many syntax levels\n"},
	{`print(load("return " .. string.rep("(", 300) .. "1" .. string.rep(")", 300))())`, "1\n"}, // parentheses leave no node
	{`print(load("x = " .. string.rep("{", 1e5) .. string.rep("}", 1e5)))`, "nil\t[string \"x = {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{...\"]:1: chunk has too many syntax levels\n"},
	{`print(load("return " .. string.rep("1 + ", 1000) .. "1")())`, "1001\n"},
	{`print(load("return {" .. string.rep("1,", 25551) .. "}", "=big"))`, "nil\tbig:1: table constructor has 25551 list items; at most 25550 are supported\n"},
	{`print(#load("return {" .. string.rep("1,", 25550) .. "}")())`, "25550\n"},
	{`print(load("x ="))`, "nil\t[string \"x =\"]:1: unexpected symbol near <eof>\n"},
	{`print(load("x = = 1", "=chunk"))`, "nil\tchunk:1: unexpected symbol near '='\n"},
	// coroutines
	{`local function f() local ok, a = coroutine.resume(coroutine.create(f)) if ok then return a end return a end print(f())`, "C stack overflow\n"},
	{`print(pcall(coroutine.yield))`, "false\tattempt to yield from outside a coroutine\n"},
	{`print(coroutine.resume(coroutine.create(function() return pcall(coroutine.yield) end)))`, "true\tfalse\tattempt to yield across a C-call boundary\n"},
	{`local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) print(co(1), co(5))`, "2\t10\n"},
	{`coroutine.wrap(5)`, "raise: bad argument #1 to 'wrap' (function expected, got number)"},
	{`coroutine.wrap(function() error("inside") end)()`, "raise: <string>:1: inside"},
	// memory
	{`print(pcall(string.rep, "x", 1e13))`, "false\tnot enough memory\n"},
	{`print(#string.rep("", 1e12), #string.rep("", 3, ","))`, "0\t2\n"},
	{`print(pcall(string.rep, "ab", 2^62))`, "false\tresulting string too large\n"},
	{`print(pcall(function() local s = ("x"):rep(2^24) while true do s = s .. s end end))`, "false\t<string>:1: not enough memory\n"},
	{`print(pcall(table.concat, {("x"):rep(2^20)}, ("y"):rep(2^20), 1, 2^20))`, "false\tinvalid value (nil) at index 2 in table for 'concat'\n"},
	{`print(pcall(io.read, 2^50))`, "false\tnot enough memory\n"},
	{`print(string.rep("ab", 3, ","), table.concat({1, "b", 2.5}, "-"), "x" .. 1 .. "y")`, "ab,ab,ab\t1-b-2.5\tx1y\n"},
	{`print(pcall(function() return "a" .. {} end))`, "false\t<string>:1: attempt to concatenate a table value\n"},
	// what udplab does not do, and options that take names
	{`socket(AF_INET, SOCK_STREAM)`, "raise: bad argument #2 to 'socket' (udplab has datagram sockets only (SOCK_DGRAM))"},
	{`socket(AF_INET6, 5)`, "raise: bad argument #2 to 'socket' (udplab has datagram sockets only (SOCK_DGRAM))"},
	{`print(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo"), getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE))`, "0\tlo\n"},
	{`print(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "nosuch0"))`, "nil\tNo such device\t19\n"},
	// truncation: cut silently, or the real length with MSG_TRUNC
	{`sendto(s, ("x"):rep(5000), here); local d = recv(s, 4096); print(#d)`, "4096\n"},
	{`sendto(s, ("x"):rep(5000), here); local d, n = recv(s, 4096, MSG_TRUNC); print(#d, n)`, "4096\t5000\n"},
	{`sendto(s, ("x"):rep(300), here); local d, from, n = recvfrom(s, 100, MSG_TRUNC); print(#d, from.port == here.port, n)`, "100\ttrue\t300\n"},
	// helpers
	{`fatal()`, "raise: bad argument #1 to 'fatal' (number expected, got no value)"},
	{`signal(SIGINT, 5)`, "raise: bad argument #2 to 'signal' (function expected, got number)"},
	{`signal(99, print)`, "raise: bad argument #1 to 'signal' (invalid signal number)"},
	{`help(4242)`, "raise: bad argument #1 to 'help' (no help for 4242)"},
	{`print(strerror(111), errname(99999), strerror(99999))`, "Connection refused\tnil\tUnknown error 99999\n"},
}

func TestBadInputs(t *testing.T) {
	if len(badInputs) < 40 {
		t.Fatalf("only %d bad inputs", len(badInputs))
	}
	for _, tc := range badInputs {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			L, _ := newState(t, &out)
			if err := L.DoString(prelude); err != nil {
				t.Fatal(err)
			}
			err := runChunk(L, tc.code)
			got := out.String()
			if err != nil {
				msg := err.(*lua.ApiError).Object.String()
				if strings.Contains(msg, "goroutine") || strings.Contains(msg, "panic") {
					t.Fatalf("Go panic text leaked: %s", msg)
				}
				got = "raise: " + strings.TrimPrefix(msg, "<string>:1: ")
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// A Go panic under a binding becomes a Lua error that names the binding; the state stays usable.
func TestPanicBecomesLuaError(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	L, rt := newState(t, &out)
	L.SetGlobal("broken", L.NewFunction(rt.guard(&binding{name: "broken", fn: func(_ *Runtime, a args) int {
		var none []int
		return none[a.L.GetTop()] // a bug: index out of range
	}})))
	err := L.DoString(`print(pcall(broken)); broken()`)
	if got, want := out.String(), "false\tbroken: internal error: runtime error: index out of range [0] with length 0\n"; got != want {
		t.Errorf("pcall(broken) printed %q, want %q", got, want)
	}
	if err == nil || !strings.Contains(err.Error(), "broken: internal error: runtime error: index out of range [0] with length 0") {
		t.Errorf("broken() raised %v", err)
	}
	out.Reset()
	if err := L.DoString(`print(strerror(111))`); err != nil || out.String() != "Connection refused\n" {
		t.Errorf("after the panic: %v %q", err, out.String())
	}
}

// runChunk runs code as udplab runs a chunk: compiled by Load.
func runChunk(L *lua.LState, code string) error {
	fn, err := lua54.Load(L, strings.NewReader(code), "=<string>")
	if err != nil {
		return err
	}
	L.Push(fn)
	return L.PCall(0, lua.MultRet, nil)
}
