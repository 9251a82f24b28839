package luabind

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	lua54 "github.com/udplab/udplab/lua"
)

// newState returns a Lua state with udplab's library, whose print writes to out, and closes its
// sockets when the test ends.
func newState(t testing.TB, out *bytes.Buffer) (*lua.LState, *Runtime) {
	t.Helper()
	L := lua.NewState()
	var stderr bytes.Buffer
	rt := Open(L, Options{Stderr: &stderr, MemoryLimit: 256 << 20, Exit: func(code int) { L.RaiseError("exit %d: %s", code, stderr.String()) }})
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		for i := 1; i <= L.GetTop(); i++ {
			if i > 1 {
				out.WriteByte('\t')
			}
			out.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		out.WriteByte('\n')
		return 0
	}))
	t.Cleanup(func() {
		rt.CloseAll()
		L.Close()
	})
	return L, rt
}

// runLua runs code and returns what it printed, or the error it raised.
func runLua(t *testing.T, code string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	L, _ := newState(t, &out)
	err := L.DoString(code)
	return out.String(), err
}

// Every snippet opens its own sockets on loopback, port 0, and bounds every receive with a
// timeout.
var snippets = []struct {
	name, code, want string
}{
	{"refused once", `
		local srv = socket(AF_INET, SOCK_DGRAM); bind(srv, "127.0.0.1", 0)
		local port = getsockname(srv).port; close(srv)
		local s = socket(AF_INET, SOCK_DGRAM)
		print(connect(s, "127.0.0.1", port))
		print(send(s, "g1"))
		print(recv(s, 4096))
		print(settimeout(s, 0.1))
		print(recv(s, 4096))`,
		"0\n2\nnil\tConnection refused\t111\n0\nnil\tResource temporarily unavailable\t11\n"},
	{"round trip with address tables", `
		local a = socket(AF_INET, SOCK_DGRAM); bind(a, "127.0.0.1", 0)
		local b = socket(AF_INET, SOCK_DGRAM); bind(b, {family=AF_INET, addr="127.0.0.1", port=0})
		settimeout(a, 2); settimeout(b, 2)
		local pa = getsockname(a)
		print(pa.family == AF_INET, pa.addr, math.type and "" or "", type(pa.port))
		print(sendto(b, "a\0b", pa))
		local data, from = recvfrom(a, 100)
		print(#data, data == "a\0b", tostring(from) == tostring(getsockname(b)))
		print(connect(a, from), tostring(getpeername(a)) == tostring(from))
		print(a:send("Hi"), b:recv(10))`,
		"true\t127.0.0.1\t\tnumber\n3\n3\ttrue\ttrue\n0\ttrue\n2\tHi\n"},
	{"ipv6 methods", `
		local s = socket(AF_INET6, SOCK_DGRAM)
		print(s:bind("::1", 0))
		local r = socket(AF_INET6, SOCK_DGRAM); r:bind("::1", 0); r:settimeout(2)
		print(s:sendto("v6", r:getsockname()))
		local d, from = r:recvfrom(10)
		print(d, tostring(from):match("^%[::1%]:%d+$") ~= nil, from.family == AF_INET6)`,
		"0\n2\nv6\ttrue\ttrue\n"},
	{"disconnect", `
		local s = socket(AF_INET, SOCK_DGRAM)
		connect(s, "127.0.0.1", 9)
		print(connect(s, {family=AF_UNSPEC}))
		print(send(s, "x"))
		print(getpeername(s))`,
		"0\nnil\tDestination address required\t89\nnil\tTransport endpoint is not connected\t107\n"},
	{"closed socket", `
		local s = socket(AF_INET, SOCK_DGRAM)
		local t = socket(AF_INET, SOCK_DGRAM)
		print(sockets()[1] == s, sockets()[2] == t, #sockets())
		print(close(s)); print(close(s)); print(send(s, "x")); print(s); print(#sockets(), sockets()[1] == t)`,
		"true\ttrue\t2\n0\nnil\tBad file descriptor\t9\nnil\tBad file descriptor\t9\nsocket(closed)\n1\ttrue\n"},
	{"tostring", `
		local s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); connect(s, "127.0.0.1", 43211)
		print((tostring(s):gsub("fd=%d+", "fd=N"):gsub("127.0.0.1:%d+,", "127.0.0.1:P,")))
		local t6 = {family=AF_INET6, addr="::1", port=5}
		connect(socket(AF_INET6, SOCK_DGRAM), t6)
		print(tostring(t6), tostring(getpeername(s)), tostring({family=AF_UNSPEC}):match("^table") ~= nil)`,
		"socket(fd=N, AF_INET, SOCK_DGRAM, bound 127.0.0.1:P, connected 127.0.0.1:43211)\n[::1]:5\t127.0.0.1:43211\ttrue\n"},
	{"options", `
		local s = socket(AF_INET, SOCK_DGRAM)
		print(getsockopt(s, SOL_SOCKET, SO_BROADCAST), setsockopt(s, SOL_SOCKET, SO_BROADCAST, true), getsockopt(s, SOL_SOCKET, "SO_BROADCAST"))
		print(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, 0.25), getsockopt(s, SOL_SOCKET, SO_RCVTIMEO))
		print(setsockopt(s, IPPROTO_IP, IP_TTL, 7), getsockopt(s, IPPROTO_IP, IP_TTL))
		print(setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, "127.0.0.1"), getsockopt(s, IPPROTO_IP, IP_MULTICAST_IF))
		print(setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, {multiaddr="239.1.2.3", interface="127.0.0.1"}))
		print(setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, {multiaddr="239.1.2.3", interface="127.0.0.1"}))
		print(setsockopt(s, SOL_SOCKET, 12345, 1))`,
		"0\t0\t1\n0\t0.25\n0\t7\n0\t127.0.0.1\n0\nnil\tAddress already in use\t98\nnil\tProtocol not available\t92\n"},
	{"poll", `
		local a = socket(AF_INET, SOCK_DGRAM); bind(a, "127.0.0.1", 0)
		local b = socket(AF_INET, SOCK_DGRAM); bind(b, "127.0.0.1", 0)
		print(#poll({a, b}, 0))
		sendto(b, "x", getsockname(a))
		local r = poll({a, b}, 2)
		print(#r, r[1] == a)
		close(b)
		print(poll({a, b}, 0))`,
		"0\n1\ttrue\nnil\tBad file descriptor\t9\n"},
	{"constants", `print(ECONNREFUSED, EAGAIN, EACCES, EDESTADDRREQ, ENOTCONN, EBADF, AF_INET, AF_INET6, SOCK_DGRAM, MSG_PEEK)`,
		"111\t11\t13\t89\t107\t9\t2\t10\t2\t2\n"},
	{"module", `local m = require("sock"); print(m.socket == socket, m.SO_BROADCAST, strerror(111), errname(111))`,
		"true\t6\tConnection refused\tECONNREFUSED\n"},
	{"maxlen capped and zero", `
		local a = socket(AF_INET, SOCK_DGRAM); bind(a, "127.0.0.1", 0); settimeout(a, 2)
		sendto(a, "hello", getsockname(a)); sendto(a, "hello", getsockname(a))
		print(recv(a, 2^40)); print(#recv(a, 0))`,
		"hello\n0\n"},
	{"recverr v4 and v6", `
		for _, v in ipairs({{AF_INET, "127.0.0.1", IPPROTO_IP, IP_RECVERR}, {AF_INET6, "::1", IPPROTO_IPV6, IPV6_RECVERR}}) do
			local p = socket(v[1], SOCK_DGRAM); bind(p, v[2], 0); local closed = getsockname(p); close(p)
			local c = socket(v[1], SOCK_DGRAM); settimeout(c, 2)
			print(recverr(c))
			setsockopt(c, v[3], v[4], 1); connect(c, closed); send(c, "g1"); poll({c}, 2)
			local e = recverr(c)
			print(e.errno, e.origin, e.type, e.code, e.offender, e.info, e.payload, e.message)
		end`,
		"nil\tResource temporarily unavailable\t11\n" +
			"111\ticmp\t3\t3\t127.0.0.1\t0\tg1\tICMP destination unreachable (type 3), port unreachable (code 3) from 127.0.0.1\n" +
			"nil\tResource temporarily unavailable\t11\n" +
			"111\ticmp6\t1\t4\t::1\t0\tg1\tICMPv6 destination unreachable (type 1), port unreachable (code 4) from ::1\n"},
	{"peek", `
		local a = socket(AF_INET, SOCK_DGRAM); bind(a, "127.0.0.1", 0); settimeout(a, 2)
		sendto(a, "once", getsockname(a))
		print(recv(a, 10, MSG_PEEK), recv(a, 10), recv(a, 10, MSG_DONTWAIT))`,
		"once\tonce\tnil\tResource temporarily unavailable\t11\n"},
}

func TestSnippets(t *testing.T) {
	for _, tc := range snippets {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := runLua(t, tc.code)
			if err != nil {
				t.Fatalf("error: %v\noutput so far:\n%s", err, got)
			}
			if got != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

// Misuse raises PUC Lua's standard message, with the quotes and "no value".
var badArguments = []struct{ code, want string }{
	{`send(42, "x")`, "bad argument #1 to 'send' (socket expected, got number)"},
	{`send(socket(AF_INET, SOCK_DGRAM))`, "bad argument #2 to 'send' (string expected, got no value)"},
	{`socket()`, "bad argument #1 to 'socket' (number expected, got no value)"},
	{`socket(AF_INET, "dgram")`, "bad argument #2 to 'socket' (number expected, got string)"},
	{`connect(socket(AF_INET, SOCK_DGRAM), "127.0.0.1")`, "bad argument #3 to 'connect' (number expected, got no value)"},
	{`connect(socket(AF_INET, SOCK_DGRAM), "127.0.0.1", 65536)`, "bad argument #3 to 'connect' (port out of range 0..65535)"},
	{`connect(socket(AF_INET, SOCK_DGRAM), "127.0.0.1", 1.5)`, "bad argument #3 to 'connect' (number has no integer representation)"},
	{`connect(socket(AF_INET, SOCK_DGRAM), "256.1.1.1", 1)`, `bad argument #2 to 'connect' (invalid IPv4 address "256.1.1.1")`},
	{`connect(socket(AF_INET, SOCK_DGRAM), nil)`, "bad argument #2 to 'connect' (address expected, got nil)"},
	{`connect(socket(AF_INET, SOCK_DGRAM), {addr=5})`, "bad argument #2 to 'connect' (address field 'addr' must be a string)"},
	{`recv(socket(AF_INET, SOCK_DGRAM), -1)`, "bad argument #2 to 'recv' (maxlen must not be negative)"},
	{`settimeout(socket(AF_INET, SOCK_DGRAM), -1)`, "bad argument #2 to 'settimeout' (timeout must be a number of seconds, 0 or more)"},
	{`settimeout(socket(AF_INET, SOCK_DGRAM), 0/0)`, "bad argument #2 to 'settimeout' (timeout must be a number of seconds, 0 or more)"},
	{`setsockopt(socket(AF_INET, SOCK_DGRAM), SOL_SOCKET, "SO_NOPE", 1)`, "bad argument #3 to 'setsockopt' (unknown socket option 'SO_NOPE')"},
	{`setsockopt(socket(AF_INET, SOCK_DGRAM), SOL_SOCKET, SO_BROADCAST, "yes")`, "bad argument #4 to 'setsockopt' (number expected, got string)"},
	{`poll({1})`, "bad argument #1 to 'poll' (socket expected at index 1, got number)"},
	{`socket(AF_INET, SOCK_DGRAM):send()`, "bad argument #2 to 'send' (string expected, got no value)"},
}

func TestBadArguments(t *testing.T) {
	for _, tc := range badArguments {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			_, err := runLua(t, tc.code)
			if err == nil {
				t.Fatal("no error raised")
			}
			msg := err.(*lua.ApiError).Object.String()
			if !strings.HasSuffix(msg, tc.want) || !strings.HasPrefix(msg, "<string>:1:") {
				t.Errorf("error %q, want <string>:1: ...%s", msg, tc.want)
			}
		})
	}
}

func TestFatal(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	L := lua.NewState()
	defer L.Close()
	code := -1
	rt := Open(L, Options{Stderr: &stderr, Exit: func(c int) { code = c }})
	defer rt.CloseAll()
	if err := L.DoString(`fatal(0, 0, "usage: %s <IPaddress>", "x"); fatal(1, ECONNREFUSED, "recvfrom failed")`); err != nil {
		t.Fatal(err)
	}
	if got := stderr.String(); got != "usage: x <IPaddress>recvfrom failed: Connection refused (111)\n" || code != 1 {
		t.Fatalf("fatal wrote %q and exited %d", got, code)
	}
}

// A Lua signal handler runs on the Lua state's goroutine when a blocked receive is woken, and the
// receive then carries on waiting: here the handler sends the datagram the receive then gets.
// The signal is sent only once the receive is parked on the poller (the kernel shows the socket
// in the runtime's epoll set), so this is the wake, not the handler run before a call starts.
func TestSignalHandlerWakesBlockedCall(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	L, rt := newState(t, &out)
	if err := L.DoString(`
		s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); settimeout(s, 10)
		peer = socket(AF_INET, SOCK_DGRAM)
		signal(SIGINT, function(sig) print("handler", sig); sendto(peer, "after the handler", getsockname(s)) end)`); err != nil {
		t.Fatal(err)
	}
	fd := int(L.GetGlobal("s").(*lua.LUserData).Value.(*socket).conn.FD())
	sent := make(chan error, 1)
	go func() {
		if err := waitPolled(fd, 5*time.Second); err != nil {
			sent <- err
			return
		}
		if !rt.Signal(2) {
			sent <- errors.New("Signal(SIGINT) found no handler")
		}
		close(sent)
	}()
	start := time.Now()
	if err := L.DoString(`print(recv(s, 100))`); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "handler\t2\nafter the handler\n" {
		t.Fatalf("got %q after %v", got, time.Since(start))
	}
}

// waitPolled waits until the Go runtime's epoll set holds fd: a call on it is about to park.
func waitPolled(fd int, d time.Duration) error {
	want := regexp.MustCompile(`(?m)^tfd:\s+` + strconv.Itoa(fd) + `\s`)
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		infos, _ := filepath.Glob("/proc/self/fdinfo/*")
		for _, path := range infos {
			if b, err := os.ReadFile(path); err == nil && want.Match(b) {
				return nil
			}
		}
	}
	return fmt.Errorf("fd %d never joined the poller within %v", fd, d)
}

// Every function Open installs has help: a synopsis that names it, a summary and its returns;
// help() lists each in its group, and help(fn) prints its synopsis.
func TestEveryGlobalHasHelp(t *testing.T) {
	t.Parallel()
	plain := lua.NewState() // with the standard library as package lua makes it, and no more
	defer plain.Close()
	lua54.Open(plain, lua54.Options{}).Close()
	var out bytes.Buffer
	L, rt := newState(t, &out)
	rt.opts.Stdout = &out
	rt.SetWidth(func() int { return 1000 })        // lines unwrapped, to compare them whole
	L.SetGlobal("print", plain.GetGlobal("print")) // newState's print is not udplab's
	checked := 0
	L.G.Global.ForEach(func(k, v lua.LValue) {
		name := k.String()
		if _, ok := v.(*lua.LFunction); !ok || plain.GetGlobal(name) != lua.LNil {
			return
		}
		checked++
		b, ok := rt.lookupBinding(name)
		if !ok {
			t.Errorf("global %s has no binding, so no help", name)
			return
		}
		if !strings.HasPrefix(b.help.synopsis, name+"(") && !strings.HasPrefix(b.help.synopsis, name+"{") || b.help.summary == "" || b.help.returns == "" {
			t.Errorf("help for %s is incomplete: %+v", name, b.help)
		}
		out.Reset()
		L.Push(L.GetGlobal("help"))
		L.Push(v)
		if err := L.PCall(1, 0, nil); err != nil || !strings.HasPrefix(out.String(), b.help.synopsis+"\n") {
			t.Errorf("help(%s) printed %q, %v", name, out.String(), err)
		}
	})
	if checked != len(bindings) {
		t.Errorf("checked %d globals, want the %d bindings", checked, len(bindings))
	}
	out.Reset()
	if err := L.DoString(`help()`); err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, w := range strings.Fields(out.String()) {
		listed[w] = true
	}
	for _, b := range bindings {
		if !listed[b.name] && b.name != "help" {
			t.Errorf("help() does not list %s:\n%s", b.name, out.String())
		}
	}
	if strings.Contains(out.String(), "others") {
		t.Errorf("a call in no group of help():\n%s", out.String())
	}
}

// help wraps at word boundaries to the terminal's width: at 40 columns no line is longer unless
// it is one word, and no word is cut (at 100 it cut "tim" / "eout").
func TestHelpWraps(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	L, rt := newState(t, &out)
	rt.opts.Stdout = &out
	rt.SetWidth(func() int { return 40 })
	if err := L.DoString(`help() help(settimeout) help("SO_BROADCAST") help("ECONNREFUSED")`); err != nil {
		t.Fatal(err)
	}
	words := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if len(line) > 40 && len(strings.Fields(line)) > 1 {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
		for _, w := range strings.Fields(line) {
			words[w] = true
		}
	}
	for _, w := range []string{"timeout", "SO_BROADCAST", "ECONNREFUSED", "settimeout(s,"} {
		if !words[w] {
			t.Errorf("the word %q was cut or is missing:\n%s", w, out.String())
		}
	}
}
