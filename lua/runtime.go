package lua

import (
	"context"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	glua "github.com/yuin/gopher-lua"
)

// Options configures Open.
type Options struct {
	// Stdout is where print, io.write and io.stdout write; os.Stdout when nil.
	Stdout io.Writer
	// Stderr is io.stderr, and where the memory watch's last word goes; os.Stderr when nil.
	Stderr io.Writer
	// Stdin is what io.read reads; os.Stdin when nil.
	Stdin io.Reader
	// Lib holds Lua modules that require finds when package.path does not.
	Lib fs.FS
	// Progname names the program in messages: the chunk names of Lib's modules
	// ("udplab:lib/x.lua"), and the memory watch's "udplab: not enough memory". "lua" when empty.
	Progname string
	// Exit ends the process for os.exit, once Lua's files are flushed; os.Exit when nil.
	Exit func(code int)
	// MemoryLimit is the heap, in bytes, the Lua state may use (see memory.go); 0: no limit.
	MemoryLimit int64
	// OnMemoryExceeded is told, from another goroutine, when the heap passed MemoryLimit; it
	// returns true when it stopped the running code (a console cancels its chunk).
	OnMemoryExceeded func() bool
}

// Runtime is the state this package keeps for one Lua state: its files, its memory budget, its
// coroutine nesting. It belongs to the goroutine that runs the Lua state, but for Close.
type Runtime struct {
	opts        Options
	io          ioLib       // Lua's io library (iolib.go)
	resumeDepth int         // coroutine resumes in progress, nested
	lowMemory   atomic.Bool // the heap passed the budget: the next check raises "not enough memory"
	stopWatch   context.CancelFunc

	factory       *glua.LState    // makes the threads of coroutines (pcall.go)
	helperFactory *glua.LState    // makes pcall's helpers
	helpers       []*helper       // the threads pcall runs functions on, by depth
	depth         int             // pcalls in progress, nested
	msgh          *glua.LFunction // the message handler of pcall and PCall

	coCreate, coResume glua.LGFunction // gopher-lua's coroutine.create and resume
	trampoline         *glua.LFunction // makes a Lua function of a Go one (coroutine.go)

	warnings    bool              // warn("@on") turned them on
	sources     map[string]*chunk // the source of the chunks Load compiled, by name (culprit.go)
	sourceOrder []string          // their names, oldest first
}

// Open makes L's standard library behave as PUC Lua 5.4's where gopher-lua's differs: print,
// io, string.format, string.rep, table.concat, load and require's loader, the concatenation
// operator (for chunks compiled by Load), coroutines, math.random and os.exit.
func Open(L *glua.LState, opts Options) *Runtime {
	if opts.Progname == "" {
		opts.Progname = "lua"
	}
	rt := &Runtime{opts: opts}
	ud := L.NewUserData()
	ud.Value = rt
	L.G.Registry.RawSetString(registryKey, ud)
	L.SetGlobal("error", L.NewFunction(errorCall))
	L.SetGlobal("assert", L.NewFunction(assertCall))
	L.SetGlobal("setmetatable", L.NewFunction(setmetatableCall))
	L.SetGlobal("print", L.NewFunction(rt.printCall))
	if osTable, ok := L.GetGlobal("os").(*glua.LTable); ok {
		osTable.RawSetString("exit", L.NewFunction(rt.exitCall))
	}
	rt.installLoaders(L)
	rt.installProtect(L)
	rt.installStdlib(L)
	rt.install54(L)
	L.SetGlobal(concatName, L.NewFunction(rt.concatCall))
	L.SetGlobal(forStepName, L.NewFunction(forStepCall))
	if opts.MemoryLimit > 0 {
		// The watch starts after its first interval: a run shorter than that makes no
		// goroutine for it (and no thread for that goroutine).
		ctx, cancel := context.WithCancel(context.Background())
		const interval = 10 * time.Millisecond
		start := time.AfterFunc(interval, func() { rt.watchMemory(ctx, interval) })
		rt.stopWatch = func() {
			start.Stop()
			cancel()
		}
	}
	fixRandom(L)
	return rt
}

// Close stops the memory watch and closes the files the script left open, as lua_close does,
// without flushing them (FlushFiles does, on the Lua state's goroutine). Any goroutine may call
// it.
func (rt *Runtime) Close() {
	if rt.stopWatch != nil {
		rt.stopWatch()
	}
	rt.closeFiles()
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

// exit flushes Lua's files, then ends the process through Options.Exit.
func (rt *Runtime) exit(code int) {
	rt.FlushFiles()
	if rt.opts.Exit != nil {
		rt.opts.Exit(code)
		return
	}
	os.Exit(code)
}

// printCall replaces print: the same line as Lua's, written to Options.Stdout in one write, so
// that a line is never split by what stderr prints meanwhile.
func (rt *Runtime) printCall(L *glua.LState) int {
	rt.Reserve(L, 0)
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		b.WriteString(ToString(L, L.Get(i)))
	}
	b.WriteByte('\n')
	io.WriteString(rt.stdout(), b.String())
	return 0
}

// exitCall replaces os.exit([code]): true is 0, false is 1, as in Lua 5.4. Lua's files are
// flushed first.
func (rt *Runtime) exitCall(L *glua.LState) int {
	code := 0
	switch v := L.Get(1).(type) {
	case glua.LBool:
		if !v {
			code = 1
		}
	case *glua.LNilType:
	default:
		code = args{L, "exit"}.int(1)
	}
	rt.exit(code)
	return 0
}
