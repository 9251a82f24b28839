package luabind

import (
	"context"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// fuzzFunctions are the bindings the fuzzer calls: all but those that change the process
// (trace, wire, signal) or end it (fatal; os.exit is not a binding of this table).
var fuzzFunctions = []string{"socket", "bind", "connect", "send", "sendto", "recv", "recvfrom", "close",
	"getsockname", "getpeername", "setsockopt", "getsockopt", "settimeout", "fileno", "poll", "sockets",
	"strerror", "errname", "help", "recverr"}

// fuzzValues builds the pool of Lua values the fuzzer passes as arguments: every type, edge
// numbers, addresses good and bad (loopback only, no names but localhost), sockets open and
// closed.
const fuzzValues = `
	local s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0)
	local s6 = socket(AF_INET6, SOCK_DGRAM)
	local closed = socket(AF_INET, SOCK_DGRAM); close(closed)
	return {
		nil, true, false, 0, 1, -1, 1.5, 2^40, -2^63, 0/0, 1/0, 65535, 65536, 2, 10, 6, 41, 111,
		"", "x", "a\0b", "127.0.0.1", "::1", "0.0.0.0", "255.255.255.255", "239.1.2.3", "ff02::1",
		"256.1.1.1", "1.2.3", "::g", "localhost:80", "localhost", "lo", "SO_BROADCAST", "IP_TTL",
		{}, {1, 2}, {family = AF_UNSPEC}, {family = AF_INET, addr = "127.0.0.1", port = 9},
		{addr = "::1", port = 9}, {family = AF_INET6, addr = "127.0.0.1"}, {addr = 5}, {port = -1},
		{multiaddr = "239.1.2.3", interface = "127.0.0.1"}, {multiaddr = "ff02::1", interface = "lo"},
		getsockname(s), s, s6, closed, {s, s6}, {s, closed}, {s, 1}, print, io.stdout,
	}`

// FuzzBindings calls the bindings with arbitrary arguments drawn from fuzzValues. Whatever the
// arguments, a call returns values or raises a Lua error: never a Go panic (which the guard would
// report as an "internal error"), never a hang (every call is bounded by a context).
func FuzzBindings(f *testing.F) {
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{3, 55, 22, 1})
	f.Add([]byte{4, 56, 20, 14})
	f.Add([]byte{10, 55, 1, 1, 4})
	f.Add([]byte{14, 58, 4})
	f.Add([]byte{19, 55})
	L := lua.NewState()
	defer L.Close()
	rt := Open(L, Options{Stdout: discard{}, Stderr: discard{}, Exit: func(int) { L.RaiseError("exit") }})
	defer rt.Shutdown()
	if err := L.DoString(`values = (function() ` + fuzzValues + ` end)()`); err != nil {
		f.Fatal(err)
	}
	values := L.GetGlobal("values").(*lua.LTable)
	const poolSize = 54 // the index of io.stdout, the last value
	if values.RawGetInt(poolSize) != L.GetField(L.GetGlobal("io"), "stdout") {
		f.Fatal("fuzzValues changed: update poolSize")
	}
	f.Fuzz(func(t *testing.T, program []byte) {
		if len(program) == 0 {
			return
		}
		fn := L.GetGlobal(fuzzFunctions[int(program[0])%len(fuzzFunctions)])
		args := program[1:min(len(program), 7)]
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		L.SetContext(ctx)
		defer L.RemoveContext()
		top := L.GetTop()
		L.Push(fn)
		for _, a := range args {
			L.Push(values.RawGetInt(int(a)%poolSize + 1))
		}
		err := L.PCall(len(args), lua.MultRet, nil)
		L.SetTop(top)
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "internal error") || err.(*lua.ApiError).Type == lua.ApiErrorPanic {
				t.Fatalf("%v", msg)
			}
		}
	})
}
