// Package console is udplab's front end: a session holding one Lua state with udplab's
// libraries, the script runner, and the interactive console (a readline prompt, or chunks read
// from a pipe) with completion and value display.
package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chzyer/readline"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/diagram"
	lua54 "github.com/udplab/udplab/lua"
	"github.com/udplab/udplab/luabind"
	"github.com/udplab/udplab/scripts"
)

// Options configures a Session.
type Options struct {
	Stdout, Stderr io.Writer
	// Version names the program in the console's banner: "udplab 0.1.0".
	Version string
	// MemoryLimit is the heap, in bytes, Lua may use; 0: lua54.DefaultMemoryLimit().
	MemoryLimit int64
}

// errInterrupted is the error of a chunk cut short by Ctrl-C.
var errInterrupted = errors.New("interrupted")

// escapeWindow is how soon the third Ctrl-C must follow the first unanswered one to end udplab
// when the running code cannot be interrupted in place (a long pattern match).
const escapeWindow = 2 * time.Second

// Session is one Lua state with udplab's libraries, and how it talks to the terminal.
type Session struct {
	L       *lua.LState
	rt      *luabind.Runtime
	stdout  io.Writer
	stderr  io.Writer
	version string
	sigs    chan os.Signal

	chunk chunkRun // the console's running chunk, as signals and the memory watch see it
	paint palette  // the console's colours: none unless it runs in a terminal without NO_COLOR

	writeDiagram func()                          // writes the diagram --diagram asked for, once
	diagramErr   error                           // why it could not be written
	interactive  atomic.Bool                     // the console reads a terminal
	foreground   atomic.Pointer[luabind.Runtime] // a script run() runs: it sees signals first
	stdinSource  io.Reader                       // what io.read reads: a script run() reads it too
	sigintNoted  bool                            // the console said what a SIGINT handler does there
	// editorClosing: the line editor is being closed, and the end of its input is no ^D
	editorClosing atomic.Bool

	// Step mode's pauses (step.go): the console's line editor, while it runs; whether a pause's
	// line is its prompt, and the key that ended it; how to restore the terminal a pause of a
	// script put in non-canonical mode, should udplab end during it.
	editor        atomic.Pointer[readline.Instance]
	stepPrompt    atomic.Bool
	stepKey       atomic.Int32
	termRestore   atomic.Pointer[func()]
	restoreOnExit sync.Once

	// luaOut is Lua's standard output (print, io.write), and luaErr its standard error: they
	// remember the text either wrote after the last newline, which io.read at the console keeps
	// on screen as its prompt.
	luaOut *lineTail
	luaErr io.Writer

	// sources are the chunks run, by chunk name (the console's latest line is "stdin"), so that
	// an error can name its culprit.
	sources map[string]string

	// interrupt, set by the console, sees a signal before any Lua handler does (Ctrl-C there
	// cancels the running chunk) and reports whether it dealt with it.
	interrupt atomic.Pointer[func(sig unix.Signal) bool]

	mu       sync.Mutex
	atExit   []func() // run before the process ends, whoever ends it (restore the terminal)
	ignored  []time.Time
	exitHook func(code int) // ends the process: os.Exit, but for tests
}

// New returns a Session with a fresh Lua state.
func New(opts Options) *Session {
	// The data stack starts small and grows to gopher-lua's usual size (so its limit, "stack
	// overflow", is the same): its 80 kB were zeroed, and their pages touched, at every start.
	L := lua.NewState(lua.Options{RegistrySize: 1024, RegistryMaxSize: lua.RegistrySize, RegistryGrowStep: 1024,
		SkipOpenLibs: true})
	openLibs(L)
	s := &Session{L: L, stdout: opts.Stdout, stderr: opts.Stderr, version: opts.Version,
		sigs: make(chan os.Signal, 4), exitHook: os.Exit, sources: map[string]string{}}
	s.luaOut = &lineTail{w: opts.Stdout}
	s.luaErr = s.luaOut.alongside(opts.Stderr)
	limit := opts.MemoryLimit
	if limit == 0 {
		limit = lua54.DefaultMemoryLimit()
	}
	// Let the collector work harder as the heap nears twice the budget, well before the
	// process runs out (it is a target, not a cap).
	debug.SetMemoryLimit(2 * limit)
	s.rt = luabind.Open(s.L, luabind.Options{
		Stdout:           s.luaOut,
		Lib:              shippedLib(),
		Stderr:           s.luaErr,
		Exit:             s.exit,
		OnSignal:         s.onLuaSignal,
		MemoryLimit:      limit,
		OnMemoryExceeded: func() bool { return s.chunk.cancel(lua54.ErrNoMemory) },
		Terminal:         s.interactive.Load,
		Shipped:          scripts.FS,
		Step:             s.stepPause,
	})
	s.installJobs()
	return s
}

// openLibs opens gopher-lua's standard libraries in L, in the order its OpenLibs does, but for
// io, which package lua replaces whole (luabind.Open): opening it made its files and tables at
// every start for nothing.
func openLibs(L *lua.LState) {
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, lua.OpenOs}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath},
		{lua.DebugLibName, lua.OpenDebug}, {lua.ChannelLibName, lua.OpenChannel}, {lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
}

// onLuaSignal is told that Lua set a handler for sig: udplab starts catching it. At the console,
// Ctrl-C (SIGINT) belongs to the console, which says so once.
func (s *Session) onLuaSignal(sig unix.Signal) {
	signal.Notify(s.sigs, sig)
	if sig == unix.SIGINT && s.interactive.Load() && !s.sigintNoted {
		s.sigintNoted = true
		fmt.Fprintln(s.stderr, "note: at the console Ctrl-C (SIGINT) interrupts the running line, and a SIGINT handler is not called; it is when a script runs (udplab FILE)")
	}
}

// Close writes the diagram --diagram asked for, flushes Lua's files and what the wire view still
// holds, closes every socket and the Lua state. It returns the diagram's error, when it could
// not be written.
func (s *Session) Close() error {
	if s.writeDiagram != nil {
		s.writeDiagram()
	}
	s.rt.FlushFiles(s.L)
	s.rt.Shutdown()
	s.L.Close()
	return s.diagramErr
}

// onExit adds fn to what runs before the process ends.
func (s *Session) onExit(fn func()) {
	s.mu.Lock()
	s.atExit = append(s.atExit, fn)
	s.mu.Unlock()
}

// exit ends the process with code after the exit hooks: the one way udplab ends other than by
// returning from main.
func (s *Session) exit(code int) {
	s.mu.Lock()
	hooks := s.atExit
	s.atExit = nil
	s.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
	if s.diagramErr != nil && code == 0 {
		code = 1 // the picture asked for is not there
	}
	s.exitHook(code)
}

// Diagram records every socket call and, however the run ends, writes its sequence diagram to
// path (.svg, .html, else text; "-": as text on stdout), the SVG and the page fitted to frame
// unless it is zero.
func (s *Session) Diagram(path string, frame diagram.Frame) {
	s.rt.StartDiagram()
	var once sync.Once
	write := func() {
		once.Do(func() {
			width := 80
			if w, err := unix.IoctlGetWinsize(1, unix.TIOCGWINSZ); err == nil && w.Col >= 20 {
				width = int(w.Col)
			}
			if err := s.rt.WriteDiagram(path, width, frame); err != nil {
				fmt.Fprintf(s.stderr, "udplab: the diagram could not be written: %v\n", err)
				s.diagramErr = err
			}
		})
	}
	s.onExit(write)
	s.writeDiagram = write
}

// Slides records every socket call and, however the run ends, writes the run's slides to dir
// (one SVG per section, fitted to frame, and index.html), script naming the events before the
// first section.
func (s *Session) Slides(dir string, frame diagram.Frame, script string) {
	s.rt.StartDiagram()
	var once sync.Once
	write := func() {
		once.Do(func() {
			if _, err := s.rt.WriteSlides(dir, frame, script); err != nil {
				fmt.Fprintf(s.stderr, "udplab: the slides could not be written: %v\n", err)
				s.diagramErr = err
			}
		})
	}
	s.onExit(write)
	prev := s.writeDiagram
	s.writeDiagram = func() {
		if prev != nil {
			prev()
		}
		write()
	}
}

// Live serves the picture of the run as it happens on http://127.0.0.1:port/ (0: a port the kernel
// picks), and says where on stderr.
func (s *Session) Live(port int) error {
	url, err := s.rt.StartLive(port)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stderr, "live picture: %s (open it in a browser on this machine)\n", url)
	return nil
}

// WriteLuaDefs writes the definitions of the session's globals (the console's run, bg, jobs
// and stop among them) for the Lua Language Server.
func (s *Session) WriteLuaDefs(w io.Writer) error { return s.rt.WriteLuaDefs(w) }

// Trace turns on the strace-format call trace on stderr.
func (s *Session) Trace() { s.rt.StartTrace(s.stderr) }

// Wire turns on the call trace and the wire view on stderr; without CAP_NET_RAW it says so in
// one line and traces the calls alone.
func (s *Session) Wire() { s.rt.StartWire(s.stderr) }

// StreamRecordingIfAsked makes the session write its calls to the descriptor RecordEnv names,
// when the console that started it (bg) asked for them, for its picture.
func (s *Session) StreamRecordingIfAsked() {
	v := os.Getenv(RecordEnv)
	if v == "" {
		return
	}
	os.Unsetenv(RecordEnv) // not for the programs it starts
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return
	}
	unix.CloseOnExec(fd)
	s.rt.StreamRecording(os.NewFile(uintptr(fd), "recording"))
}

// Pcap writes the frames the wire view captures to path, as pcapng, until the session ends.
func (s *Session) Pcap(path string) error { return s.rt.StartPcap(path) }

// CatchSignals starts delivering SIGINT: to the console's running chunk, else to the script's
// handler when it has one, else it ends the script with "interrupted" and exit status 130, as a C
// program killed by Ctrl-C gives. SIGQUIT (Ctrl-\) ends udplab quietly with status 131, as it
// ends a C program, unless UDPLAB_GODUMP is set: then Go's goroutine dump is printed, for
// debugging udplab itself. After stop, the signals go back to their default actions shortly.
func (s *Session) CatchSignals() (stop func()) {
	signal.Notify(s.sigs, unix.SIGINT)
	if os.Getenv("UDPLAB_GODUMP") == "" {
		signal.Notify(s.sigs, unix.SIGQUIT)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case sig := <-s.sigs:
				s.deliver(sig.(unix.Signal))
			}
		}
	}()
	return func() {
		close(done)
		// signal.Stop makes a round trip to the runtime's signal thread for each signal (about
		// 0.05 ms each here), and udplab ends right after: it is not waited for.
		go signal.Stop(s.sigs)
	}
}

// deliver gives sig to whoever sees it first: the console, a Lua handler, else the end of the
// process. A third Ctrl-C within escapeWindow of one still unanswered ends udplab, whatever runs.
func (s *Session) deliver(sig unix.Signal) {
	if sig == unix.SIGQUIT {
		s.exit(128 + int(sig))
	}
	if fg := s.foreground.Load(); fg != nil && fg.Signal(sig) {
		return // a script run() runs handles it (the pinned server counts on Ctrl-C)
	}
	unanswered := sig == unix.SIGINT && (s.chunk.cancelled() || s.rt.SignalPending(sig))
	if interrupt := s.interrupt.Load(); interrupt != nil && (*interrupt)(sig) || s.rt.Signal(sig) {
		if unanswered && s.escape() {
			s.die(sig)
		}
		return
	}
	s.die(sig)
}

// escape counts a Ctrl-C that came while an earlier one was unanswered, and reports whether it
// is the third within escapeWindow.
func (s *Session) escape() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	recent := s.ignored[:0]
	for _, t := range s.ignored {
		if now.Sub(t) < escapeWindow {
			recent = append(recent, t)
		}
	}
	s.ignored = append(recent, now)
	return len(s.ignored) >= 2
}

// die ends the process as sig would end a C program, with its message. It does not close the
// sockets first: closing them would wake the script's blocked call, which could end the script
// with status 0 before this exit. The kernel closes them with the process.
func (s *Session) die(sig unix.Signal) {
	s.rt.FlushWire()
	if sig == unix.SIGINT {
		io.WriteString(s.stderr, "interrupted\n")
	} else {
		fmt.Fprintf(s.stderr, "terminated by %s\n", unix.SignalName(sig))
	}
	s.exit(128 + int(sig))
}

// chunkRun is a console chunk in progress, as another goroutine sees it: it can cancel it, with
// a cause the chunk's error then reads as.
type chunkRun struct {
	mu          sync.Mutex
	cancelFn    context.CancelCauseFunc
	ctx         context.Context
	cancelledAt time.Time
}

// causeContext is a context whose Err is its cause: the VM raises Err's text, so that a chunk
// cut short by Ctrl-C fails with "interrupted", and one past the memory budget with "not enough
// memory", not "context canceled".
type causeContext struct{ context.Context }

// Err returns the cancellation's cause.
func (c causeContext) Err() error {
	if c.Context.Err() == nil {
		return nil
	}
	return context.Cause(c.Context)
}

// start returns the context a chunk runs under.
func (c *chunkRun) start() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	c.mu.Lock()
	c.ctx, c.cancelFn, c.cancelledAt = ctx, cancel, time.Time{}
	c.mu.Unlock()
	return causeContext{ctx}
}

// cancel cuts the running chunk short with cause, and reports whether one was running.
func (c *chunkRun) cancel(cause error) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancelFn == nil {
		return false
	}
	c.cancelFn(cause)
	if c.cancelledAt.IsZero() {
		c.cancelledAt = time.Now()
	}
	return true
}

// cancelled reports whether a chunk was cut short and is still running.
func (c *chunkRun) cancelled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cancelFn != nil && !c.cancelledAt.IsZero()
}

// stop ends the chunk and returns why it was cut short, or nil.
func (c *chunkRun) stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cause := context.Cause(c.ctx)
	c.cancelFn(nil)
	c.cancelFn, c.ctx = nil, nil
	return cause
}

// lineTail is a writer that remembers what was written after the last newline.
type lineTail struct {
	w    io.Writer
	mu   sync.Mutex
	tail []byte
}

// maxTail is how much of a line lineTail keeps.
const maxTail = 256

func (t *lineTail) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	t.note(p[:n])
	return n, err
}

// alongside returns a writer to w that t remembers the tail of too: Lua's standard error, which
// shares the terminal's line with its standard output.
func (t *lineTail) alongside(w io.Writer) io.Writer { return tailWriter{t, w} }

// tailWriter writes to w, and to t's memory of the line.
type tailWriter struct {
	t *lineTail
	w io.Writer
}

func (tw tailWriter) Write(p []byte) (int, error) {
	n, err := tw.w.Write(p)
	tw.t.note(p[:n])
	return n, err
}

// note remembers what p leaves after the last newline.
func (t *lineTail) note(p []byte) {
	t.mu.Lock()
	if i := bytes.LastIndexByte(p, '\n'); i >= 0 {
		t.tail, p = t.tail[:0], p[i+1:]
	}
	t.tail = append(t.tail, p...)
	if len(t.tail) > maxTail {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-maxTail:]...)
	}
	t.mu.Unlock()
}

// take returns the text after the last newline and forgets it.
func (t *lineTail) take() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(t.tail)
	t.tail = t.tail[:0]
	return s
}
