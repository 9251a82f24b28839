package luabind

import (
	"io"
	"strconv"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	lua54 "github.com/udplab/udplab/lua"
	"github.com/udplab/udplab/sock"
)

// binding is one Lua function of udplab's: its name, whether it is also a socket method, its
// help, and the Go function behind it. Each is declared beside its function.
type binding struct {
	name    string
	method  bool
	help    helpEntry
	group   string // the line of help() that lists it, when helpGroups does not
	returns string // the type of what it returns, for --lua-defs, when luaReturns does not say
	fn      func(rt *Runtime, a args) int
	step    uint8 // whether step mode pauses before it (stepPause), or it begins a section
	onHost  bool  // a host's method: net.a:socket(...)
}

// bindings are udplab's Lua functions, in the order help lists them by kind.
var bindings = []*binding{
	&socketBinding, &bindBinding, &connectBinding, &sendBinding, &sendtoBinding, &recvBinding,
	&recvfromBinding, &closeBinding, &getsocknameBinding, &getpeernameBinding, &setsockoptBinding,
	&getsockoptBinding, &settimeoutBinding, &filenoBinding, &pollBinding, &socketsBinding,
	&strerrorBinding, &errnameBinding, &fatalBinding, &signalBinding, &helpBinding, &traceBinding,
	&wireBinding, &recverrBinding, &networkBinding, &diagramBinding, &shippedBinding,
	&pcapBinding, &jobsBinding, &stopBinding, &labelBinding, &sectionBinding, &stepBinding, &liveBinding,
}

// The socket calls step mode pauses before, and the call that begins a section.
func init() {
	for _, b := range []*binding{&socketBinding, &bindBinding, &connectBinding, &sendBinding, &sendtoBinding, &recvBinding,
		&recvfromBinding, &closeBinding, &getsocknameBinding, &getpeernameBinding, &setsockoptBinding, &getsockoptBinding,
		&settimeoutBinding, &pollBinding, &recverrBinding} {
		b.step = stepPause
	}
	sectionBinding.step = stepSection
}

// Open makes L's standard library PUC Lua 5.4's (package lua, whose os.exit closes every socket
// here before the process ends), installs the socket calls, the helpers and the constants in L
// as globals, and makes require("sock") return them as one table. It returns the Runtime that
// owns the sockets L opens.
func Open(L *lua.LState, opts Options) *Runtime {
	rt := &Runtime{opts: opts, tracer: sock.NewTracer(), bindings: bindings}
	rt.lua = lua54.Open(L, lua54.Options{
		Stdout:           opts.Stdout,
		Stderr:           opts.Stderr,
		Stdin:            opts.Stdin,
		Lib:              opts.Lib,
		Progname:         "udplab",
		Exit:             rt.Exit,
		MemoryLimit:      opts.MemoryLimit,
		OnMemoryExceeded: opts.OnMemoryExceeded,
	})
	rt.sockConfig.Tracer = rt.tracer
	rt.addrToString = L.NewFunction(addrString)
	rt.addrEqual = L.NewFunction(addrEqual)

	methods := L.CreateTable(0, len(bindings))
	module := L.CreateTable(0, 128)
	rt.funcNames = make(map[*lua.LFunction]string, len(bindings))
	for _, b := range bindings {
		fn := L.NewFunction(rt.guard(b))
		rt.funcNames[fn] = b.name
		L.SetGlobal(b.name, fn)
		module.RawSetString(b.name, fn)
		if b.method {
			methods.RawSetString(b.name, fn)
		}
	}
	mt := L.NewTypeMetatable(socketTypeName)
	mt.RawSetString("__name", lua.LString("socket"))
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(socketString))
	rt.socketMT = mt

	setConstants(L.G.Global)
	// The module's copy of the constants is made when a script asks for it: most never do.
	L.PreloadModule("sock", func(L *lua.LState) int {
		setConstants(module)
		L.Push(module)
		return 1
	})

	rt.installLab(L)
	rt.installJobs(L)
	return rt
}

// guard makes b a Lua function, and is the last line of defence around it: a Go panic under it
// (a bug in udplab, never the normal path for bad input) becomes a Lua error naming the binding,
// and the process goes on. Lua errors, which gopher-lua raises as *lua.ApiError panics, pass
// through.
func (rt *Runtime) guard(b *binding) lua.LGFunction {
	name, fn, step := b.name, b.fn, b.step
	return func(L *lua.LState) (results int) {
		if step != stepNever && rt.step.on {
			rt.pause(L, b) // step mode: before the call, and outside the recover below
		}
		defer func() {
			switch r := recover().(type) {
			case nil:
			case *lua.ApiError:
				panic(r)
			case failure:
				results = pushFailure(L, r.err)
			default:
				L.RaiseError("%s: internal error: %v", name, r)
			}
		}()
		if rt.lua.MemoryLow() {
			rt.lua.Reserve(L, 0)
		}
		return fn(rt, args{L, name})
	}
}

// failure is raised (as a panic, the way gopher-lua raises its errors) by an argument check that
// needed a system call which failed, such as looking up an interface with no descriptor left:
// guard makes the binding return the failure triple, as the call itself would have.
type failure struct{ err error }

// failWith ends the running binding with the failure triple of err.
func failWith(err error) { panic(failure{err}) }

var fatalBinding = binding{name: "fatal", fn: (*Runtime).fatalCall, help: helpEntry{
	"fatal(status, errnum, fmt, ...)", "the course's error(): print fmt, then \": <strerror> (<errnum>)\\n\" if errnum is not 0 (else no newline, as in C), exit with status if not 0",
	"nothing", ""}}

// fatalCall is fatal(status, errnum, fmt, ...), the course's error() (lib/log.c of the course's
// repository, byte for byte): it writes string.format(fmt, ...) to stderr, then, when errnum is
// not 0, ": <strerror> (<errnum>)" and a newline, and exits with status when it is not 0. With
// errnum 0 no newline is written, as the C helper writes none: a script adds "\n" itself.
func (rt *Runtime) fatalCall(a args) int {
	L := a.L
	status := a.int(1)
	errnum := a.optInt(2, 0)
	a.string(3)
	top := L.GetTop()
	L.Push(L.GetField(L.GetGlobal("string"), "format"))
	for i := 3; i <= top; i++ {
		L.Push(L.Get(i))
	}
	L.Call(top-2, 1)
	msg := L.ToString(-1)
	L.Pop(1)
	if errnum != 0 {
		msg += ": " + sock.Strerror(unix.Errno(errnum)) + " (" + strconv.Itoa(errnum) + ")\n"
	}
	io.WriteString(rt.stderr(), msg)
	if status != 0 {
		rt.exitFrom(L, status)
	}
	return 0
}

var signalBinding = binding{name: "signal", fn: (*Runtime).signalCall, help: helpEntry{
	"signal(sig, fn)", "run fn(sig) when signal sig arrives (SIGINT: Ctrl-C); a blocked call is woken, then waits again",
	"the previous handler, or nil", ""}}

// unhandledSignals are the signals signal() refuses, and why: a handler would never run, or
// would run for signals no one sent (the Go runtime preempts goroutines with SIGURG).
var unhandledSignals = map[unix.Signal]string{
	unix.SIGKILL: "the kernel does not let it be caught",
	unix.SIGSTOP: "the kernel does not let it be caught",
	unix.SIGURG:  "the Go runtime sends it to itself",
	unix.SIGPROF: "the Go runtime's profiler uses it",
	unix.SIGSEGV: "it reports a fault in udplab itself",
	unix.SIGBUS:  "it reports a fault in udplab itself",
	unix.SIGFPE:  "it reports a fault in udplab itself",
	unix.SIGILL:  "it reports a fault in udplab itself",
	unix.SIGTRAP: "it reports a fault in udplab itself",
	unix.SIGSYS:  "it reports a fault in udplab itself",
}

// signalCall is signal(sig, fn): on signal sig (SIGINT), fn(sig) runs on this Lua state, at the
// next socket call or at once if a call is blocked, which then carries on waiting. fn nil removes
// the handler. It returns the previous handler, or nil.
func (rt *Runtime) signalCall(a args) int {
	L := a.L
	sig := a.int(1)
	if sig <= 0 || sig >= len(rt.handlers) {
		a.argError(1, "invalid signal number")
	}
	if why, ok := unhandledSignals[unix.Signal(sig)]; ok {
		a.argError(1, unix.SignalName(unix.Signal(sig))+" cannot be handled: "+why)
	}
	var fn *lua.LFunction
	if L.Get(2) != lua.LNil {
		f, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			a.typeError(2, "function")
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

var strerrorBinding = binding{name: "strerror", fn: (*Runtime).strerrorCall, help: helpEntry{
	"strerror(errno)", "the C text of an errno", "a string: strerror(111) is \"Connection refused\"", ""}}

func (rt *Runtime) strerrorCall(a args) int {
	a.L.Push(lua.LString(sock.Strerror(unix.Errno(a.int(1)))))
	return 1
}

var errnameBinding = binding{name: "errname", fn: (*Runtime).errnameCall, help: helpEntry{
	"errname(errno)", "the name of an errno", "a string: errname(111) is \"ECONNREFUSED\"", ""}}

func (rt *Runtime) errnameCall(a args) int {
	name := sock.ErrnoName(unix.Errno(a.int(1)))
	if name == "" {
		a.L.Push(lua.LNil)
	} else {
		a.L.Push(lua.LString(name))
	}
	return 1
}
