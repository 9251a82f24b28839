package luabind

import (
	"io"
	"strconv"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// Open installs the socket calls, the helpers and the constants in L as globals, makes
// require("sock") return them as one table, and replaces os.exit so that it closes every socket
// first. It returns the Runtime that owns the sockets L opens.
func Open(L *lua.LState, opts Options) *Runtime {
	rt := &Runtime{opts: opts}
	rt.addrToString = L.NewFunction(addrString)

	funcs := rt.functions()
	methods := L.CreateTable(0, len(funcs))
	rt.funcNames = make(map[*lua.LFunction]string, len(funcs))
	for _, f := range funcs {
		fn := L.NewFunction(guard(f.name, f.fn))
		rt.funcNames[fn] = f.name
		L.SetGlobal(f.name, fn)
		if f.method {
			methods.RawSetString(f.name, fn)
		}
	}
	mt := L.NewTypeMetatable(socketTypeName)
	mt.RawSetString("__name", lua.LString("socket"))
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(socketString))
	rt.socketMT = mt

	setConstants(L.G.Global)

	module := L.CreateTable(0, 128)
	for _, f := range funcs {
		module.RawSetString(f.name, L.GetGlobal(f.name))
	}
	setConstants(module)
	L.PreloadModule("sock", func(L *lua.LState) int {
		L.Push(module)
		return 1
	})

	if osTable, ok := L.GetGlobal("os").(*lua.LTable); ok {
		osTable.RawSetString("exit", L.NewFunction(rt.exitCall))
	}
	return rt
}

// guard is the last line of defence around a binding: a Go panic under it (a bug in udplab,
// never the normal path for bad input) becomes a Lua error naming the binding, and the process
// goes on. Lua errors, which gopher-lua raises as *lua.ApiError panics, pass through.
func guard(name string, fn lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(*lua.ApiError); ok {
					panic(r)
				}
				L.RaiseError("%s: internal error: %v", name, r)
			}
		}()
		return fn(L)
	}
}

// function is one Lua function of udplab's; method says it is also a socket method.
type function struct {
	name   string
	fn     lua.LGFunction
	method bool
}

func (rt *Runtime) functions() []function {
	return []function{
		{"socket", rt.socketCall, false},
		{"bind", rt.bindCall, true},
		{"connect", rt.connectCall, true},
		{"send", rt.sendCall, true},
		{"sendto", rt.sendtoCall, true},
		{"recv", rt.recvCall, true},
		{"recvfrom", rt.recvfromCall, true},
		{"close", rt.closeCall, true},
		{"getsockname", rt.getsocknameCall, true},
		{"getpeername", rt.getpeernameCall, true},
		{"setsockopt", rt.setsockoptCall, true},
		{"getsockopt", rt.getsockoptCall, true},
		{"settimeout", rt.settimeoutCall, true},
		{"fileno", rt.filenoCall, true},
		{"poll", rt.pollCall, false},
		{"sockets", rt.socketsCall, false},
		{"strerror", strerrorCall, false},
		{"errname", errnameCall, false},
		{"fatal", rt.fatalCall, false},
		{"signal", rt.signalCall, false},
		{"help", rt.helpCall, false},
		{"trace", rt.traceCall, false},
		{"wire", rt.wireCall, false},
		{"recverr", rt.recverrCall, true},
	}
}

// fatalCall is fatal(status, errnum, fmt, ...), the course's error(): it writes
// string.format(fmt, ...) to stderr, then ": <strerror> (<errnum>)" when errnum is not 0, then a
// newline (which the course's helper forgets when errnum is 0), and exits with status when it is
// not 0.
func (rt *Runtime) fatalCall(L *lua.LState) int {
	status := checkInt(L, 1, "fatal")
	errnum := optInt(L, 2, "fatal", 0)
	checkString(L, 3, "fatal")
	top := L.GetTop()
	L.Push(L.GetField(L.GetGlobal("string"), "format"))
	for i := 3; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top-2, 1)
	msg := L.ToString(-1)
	L.Pop(1)
	if errnum != 0 {
		msg += ": " + sock.Strerror(unix.Errno(errnum)) + " (" + strconv.Itoa(errnum) + ")"
	}
	io.WriteString(rt.stderr(), msg+"\n")
	if status != 0 {
		rt.Exit(status)
	}
	return 0
}

// exitCall replaces os.exit([code]): true is 0, false is 1, as in Lua 5.4. Every socket is
// closed first.
func (rt *Runtime) exitCall(L *lua.LState) int {
	code := 0
	switch v := L.Get(1).(type) {
	case lua.LBool:
		if !v {
			code = 1
		}
	case *lua.LNilType:
	default:
		code = checkInt(L, 1, "exit")
	}
	rt.Exit(code)
	return 0
}

// signalCall is signal(sig, fn): on signal sig (SIGINT), fn(sig) runs on this Lua state, at the
// next socket call or at once if a call is blocked, which then carries on waiting. fn nil removes
// the handler. It returns the previous handler, or nil.
func (rt *Runtime) signalCall(L *lua.LState) int {
	sig := checkInt(L, 1, "signal")
	if sig <= 0 || sig >= len(rt.handlers) {
		argError(L, 1, "signal", "invalid signal number")
	}
	var fn *lua.LFunction
	if L.Get(2) != lua.LNil {
		f, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			typeError(L, 2, "signal", "function")
		}
		fn = f
	}
	prev := rt.handlers[sig]
	rt.handlers[sig] = fn
	bit := uint64(1) << uint(sig)
	if fn != nil {
		rt.handled.Or(bit)
	} else {
		rt.handled.And(^bit)
	}
	if rt.opts.OnSignal != nil {
		rt.opts.OnSignal(unix.Signal(sig))
	}
	if prev == nil {
		L.Push(lua.LNil)
	} else {
		L.Push(prev)
	}
	return 1
}

func strerrorCall(L *lua.LState) int {
	L.Push(lua.LString(sock.Strerror(unix.Errno(checkInt(L, 1, "strerror")))))
	return 1
}

func errnameCall(L *lua.LState) int {
	name := sock.ErrnoName(unix.Errno(checkInt(L, 1, "errname")))
	if name == "" {
		L.Push(lua.LNil)
	} else {
		L.Push(lua.LString(name))
	}
	return 1
}
