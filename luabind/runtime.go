package luabind

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/lab"
	"github.com/udplab/udplab/live"
	lua54 "github.com/udplab/udplab/lua"
	"github.com/udplab/udplab/sock"
)

// Options configures Open.
type Options struct {
	// Stdout receives help's text; os.Stdout when nil.
	Stdout io.Writer
	// Stderr receives fatal's messages; os.Stderr when nil.
	Stderr io.Writer
	// Stdin is what io.read reads; os.Stdin when nil.
	Stdin io.Reader
	// Lib holds the Lua modules udplab ships (scripts/lib), which require finds when
	// package.path does not.
	Lib fs.FS
	// Width is the terminal's width in columns, which help wraps its text to; nil or 0: 80.
	Width func() int
	// Exit ends the process for os.exit and fatal, after every socket is closed; os.Exit when nil.
	Exit func(code int)
	// OnSignal is told when Lua registers a handler for a signal, so that the host can start
	// catching it.
	OnSignal func(sig unix.Signal)
	// MemoryLimit is the heap, in bytes, the Lua state may use (see package lua); 0: no limit.
	MemoryLimit int64
	// OnMemoryExceeded is told, from another goroutine, when the heap passed MemoryLimit; it
	// returns true when it stopped the running code (the console cancels its chunk).
	OnMemoryExceeded func() bool
	// Terminal, when it returns true, says the process's standard files are the user's
	// terminal, at a console: a lab host's exec with no stdin runs the program on it.
	Terminal func() bool
	// Shipped holds the files udplab ships (the scripts, the lesson's C programs), which
	// shipped(name) returns.
	Shipped fs.FS
	// Step shows a call in step mode and reads the answer (step.go); nil: step mode is
	// unavailable.
	Step Stepper
}

// Runtime is the socket state of one Lua state: the sockets its scripts opened, its signal
// handlers and the buffers its calls reuse. A Runtime belongs to the goroutine that runs its Lua
// state, but for Signal and CloseAll, which any goroutine may call.
type Runtime struct {
	opts Options

	mu      sync.Mutex
	sockets []*socket // open sockets, in the order they were opened

	tracer     *sock.Tracer // the call trace and wire view of these sockets
	sockConfig sock.Config  // how socket() opens them

	socketMT     *lua.LTable    // the metatable of socket values
	addrToString *lua.LFunction // __tostring of address tables
	addrEqual    *lua.LFunction // __eq of address tables
	funcNames    map[*lua.LFunction]string
	bindings     []*binding            // what Open installed, for help
	constants    map[string]lua.LValue // the constants by name, for help

	recvBuf []byte // one receive at a time: the Lua state is single-threaded

	poller    sock.Poller  // poll's buffers, kept between calls
	pollSocks []*socket    // poll's list, read from its table
	pollConns []*sock.Conn // and its conns

	// Signals: handled has bit n set when Lua registered a handler for signal n; pending has bit
	// n set when signal n arrived and its handler has not run yet.
	handled  atomic.Uint64
	pending  atomic.Uint64
	handlers [64]*lua.LFunction
	wake     atomic.Pointer[waker]

	resolved map[resolveKey]*sock.Addr // "host, port" arguments already parsed or looked up

	lua     *lua54.Runtime // what makes L's standard library PUC Lua 5.4's
	diagram recording      // the calls kept for the sequence diagram (diagram.go)
	step    stepping       // step mode (step.go)
	live    *live.Server   // the live picture, when it is served (live.go); guarded by mu
	// recordsTo is the runtime whose diagram this one's calls are part of (a script the console
	// runs, RecordInto), as owner's; nil: its own.
	recordsTo *Runtime
	owner     string

	labs             []*lab.Network // the labs up, taken down at exit
	allLabs          []*lab.Network // every lab made, for the diagram's hosts
	wire             bool           // the wire view is on: labs made now are captured too
	wireLo           bool           // the wire view captures lo
	loRefusalShown   bool           // the line saying why lo cannot be captured was printed
	pcap             *pcapFile      // the pcap file being written (pcap.go)
	jobs             []*Job         // the jobs started (job.go)
	jobSeq           int            // the last job's number
	jobMT            *lua.LTable
	async            io.Writer // where the jobs' lines go; nil: stdout and stderr
	networks         map[*lua.LTable]*lab.Network
	hosts            map[*lua.LTable]labHost
	hostMethodsMT    *lua.LTable // a host's fields' metatable: its methods
	networkMethodsMT *lua.LTable // a network's fields' metatable: close
}

// waker is the context a blocking call waits under: cancelling it wakes the call so that a Lua
// signal handler can run, after which the call waits again.
type waker struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
}

// maxDatagram is the largest UDP payload (65535 less the 8-byte UDP header): a receive of more is
// capped to it.
const maxDatagram = 65535 - 8

// socket is the value a Lua socket userdata holds.
type socket struct {
	conn *sock.Conn
	ud   *lua.LUserData // the one userdata of this socket, so that sockets() returns the same values

	// The address table recvfrom returned last, and what it was made from: returned again while
	// the same peer sends and the script has not changed its fields.
	from       *sock.Addr
	fromTable  *lua.LTable
	fromFields [3]lua.LValue // family, addr, port

	// The data a receive returned last (a Lua string), returned again when the same bytes come.
	last lua.LValue
}

func (rt *Runtime) stdout() io.Writer {
	if rt.opts.Stdout != nil {
		return rt.opts.Stdout
	}
	return os.Stdout
}

func (rt *Runtime) stderr() io.Writer {
	if rt.opts.Stderr != nil {
		return rt.opts.Stderr
	}
	return os.Stderr
}

// Shutdown prints the packets the wire view still holds and closes every socket: for the end of
// a script or a console session.
func (rt *Runtime) Shutdown() {
	rt.stopLive()
	rt.tracer.Flush()
	rt.stopPcap()
	rt.CloseAll()
	rt.stopJobs()
	rt.closeLabs()
	rt.lua.Close()
	rt.poller.Close()
}

// exitFrom is Exit called on the Lua state's goroutine, from L: it flushes Lua's files first.
func (rt *Runtime) exitFrom(L *lua.LState, code int) {
	rt.FlushFiles(L)
	rt.Exit(code)
}

// FlushFiles flushes io.stdout, io.stderr and every file the script opened and has not closed.
// It must run on the Lua state's goroutine, L's.
func (rt *Runtime) FlushFiles(*lua.LState) { rt.lua.FlushFiles() }

// PCall calls the function below the nargs values on top of L's stack, protected, as package
// lua's PCall does: the error is worded as PUC Lua words it, with the traceback taken where it
// was raised.
func (rt *Runtime) PCall(L *lua.LState, nargs, nret int) error { return rt.lua.PCall(L, nargs, nret) }

// SetStdin makes io.stdin read from r from now on (see package lua's Runtime.SetStdin).
func (rt *Runtime) SetStdin(r io.Reader) { rt.lua.SetStdin(r) }

// Exit prints the packets the wire view still holds, closes every socket and ends the process
// with code, through Options.Exit. From another goroutine than the Lua state's, Lua's buffered
// files cannot be flushed; on it, os.exit and fatal flush them first.
func (rt *Runtime) Exit(code int) {
	rt.Shutdown()
	if rt.opts.Exit != nil {
		rt.opts.Exit(code)
		return
	}
	os.Exit(code)
}

// track records s as open.
func (rt *Runtime) track(s *socket) {
	rt.mu.Lock()
	rt.sockets = append(rt.sockets, s)
	rt.mu.Unlock()
}

// untrack forgets s, once it is closed.
func (rt *Runtime) untrack(s *socket) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for i, o := range rt.sockets {
		if o == s {
			rt.sockets = append(rt.sockets[:i], rt.sockets[i+1:]...)
			return
		}
	}
}

// CloseAll closes every socket still open: gopher-lua has no finalizers, so the end of a script
// must. These closes are not traced, as a C program's exit shows none. It is safe to call from
// any goroutine, and more than once.
func (rt *Runtime) CloseAll() {
	rt.mu.Lock()
	open := rt.sockets
	rt.sockets = nil
	rt.mu.Unlock()
	for _, s := range open {
		s.conn.Release()
	}
}

// Signal delivers sig to the Lua state: when Lua registered a handler for it with signal(), it
// marks the handler pending, wakes the blocked call (if any) so that the handler runs on the Lua
// state's own goroutine, and returns true. It returns false when there is no handler, and the
// caller decides what the signal does.
func (rt *Runtime) Signal(sig unix.Signal) bool {
	bit := uint64(1) << uint(sig)
	if sig <= 0 || sig >= 64 || rt.handled.Load()&bit == 0 {
		return false
	}
	rt.pending.Or(bit)
	if w := rt.wake.Load(); w != nil {
		w.cancel()
	}
	return true
}

// SignalPending reports whether sig arrived and its Lua handler has not run yet.
func (rt *Runtime) SignalPending(sig unix.Signal) bool {
	return sig > 0 && sig < 64 && rt.pending.Load()&(uint64(1)<<uint(sig)) != 0
}

// waitContext returns the context blocking calls wait under: a child of L's context (Background
// when L has none) that Signal cancels. It first runs the handlers of signals that arrived while
// no call was blocked.
func (rt *Runtime) waitContext(L *lua.LState) context.Context {
	if rt.pending.Load() != 0 {
		rt.runHandlers(L)
	}
	parent := L.Context()
	if parent == nil {
		parent = context.Background()
	}
	if w := rt.wake.Load(); w != nil && w.parent == parent {
		return w.ctx
	}
	return rt.newWaker(parent)
}

func (rt *Runtime) newWaker(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	rt.wake.Store(&waker{parent: parent, ctx: ctx, cancel: cancel})
	return ctx
}

// interrupted handles an error that ended a blocking call. When a Lua signal handler woke the
// call, it runs the pending handlers and returns true: the call should wait again, as glibc's
// signal() restarts it. When L's own context is done, it raises "interrupted". Any other error
// gives false.
func (rt *Runtime) interrupted(L *lua.LState, err error) bool {
	if err != context.Canceled && err != context.DeadlineExceeded {
		return false
	}
	if parent := L.Context(); parent != nil && parent.Err() != nil {
		L.RaiseError("%s", parent.Err().Error())
	}
	rt.newWaker(rt.wake.Load().parent)
	rt.runHandlers(L)
	return true
}

// RunHandlers calls the Lua handlers of the signals that arrived and have not been handled: the
// console runs them before a line, so that a handler's output does not surface in the middle of
// that line's calls.
func (rt *Runtime) RunHandlers(L *lua.LState) { rt.runHandlers(L) }

// runHandlers calls the Lua handlers of the signals that arrived, once each.
func (rt *Runtime) runHandlers(L *lua.LState) {
	pending := rt.pending.Swap(0)
	for sig := 1; pending != 0 && sig < 64; sig++ {
		bit := uint64(1) << uint(sig)
		if pending&bit == 0 {
			continue
		}
		pending &^= bit
		if fn := rt.handlers[sig]; fn != nil {
			L.Push(fn)
			L.Push(lua.LNumber(sig))
			L.Call(1, 0)
		}
	}
}

// AddScriptPath lets require find modules beside the script at path, in its lib/ folder and in
// its parent's lib/ folder, so that scripts share their helpers (scripts/lib/experiment.lua,
// used by scripts/lan/*.lua too) wherever they are run from.
func AddScriptPath(L *lua.LState, path string) {
	dir := filepath.Dir(path)
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	old := lua.LVAsString(pkg.RawGetString("path"))
	paths := []string{filepath.Join(dir, "?.lua"), filepath.Join(dir, "lib", "?.lua"), filepath.Join(dir, "..", "lib", "?.lua"), old}
	pkg.RawSetString("path", lua.LString(strings.Join(paths, ";")))
}
