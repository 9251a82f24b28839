package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/chzyer/readline"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	lua54 "github.com/udplab/udplab/lua"
	"github.com/udplab/udplab/sock"
)

const (
	prompt             = "udplab> "
	continuationPrompt = "... "
)

// REPL runs the console on stdin: a readline prompt when stdin is a terminal, else each complete
// chunk as it is read, with no prompt (exit status 1 if any chunk raised an error).
func (s *Session) REPL(stdin io.Reader) int {
	f, ok := stdin.(*os.File)
	if !ok || !readline.IsTerminal(int(f.Fd())) {
		return s.batch(stdin)
	}
	return s.console(f)
}

// batch runs stdin chunk by chunk: lines are gathered until they make a complete chunk.
func (s *Session) batch(stdin io.Reader) int {
	status := 0
	run := func(src string) {
		if err := s.runChunk(src); err != nil {
			s.Report(err)
			status = 1
		}
	}
	var chunks chunkReader
	r := bufio.NewReader(stdin)
	s.setStdin(r)       // io.read takes the next lines, which are then not run
	s.rt.StartDiagram() // diagram() draws the session's calls so far
	for {
		line, err := r.ReadString('\n')
		if line != "" || err == nil {
			if src, complete := chunks.add(strings.TrimSuffix(line, "\n")); complete {
				if isLeave(src) {
					return status
				}
				run(src)
			}
		}
		if err != nil {
			if src := chunks.rest(); strings.TrimSpace(src) != "" {
				run(src)
			}
			return status
		}
	}
}

// runChunk evaluates one chunk of console input under a context that Ctrl-C and the memory
// watch can cancel; a chunk cut short fails with the cause, and the memory it held is given
// back.
func (s *Session) runChunk(src string) error {
	err := s.eval(s.chunk.start(), src)
	if cause := s.chunk.stop(); cause != nil {
		if errors.Is(cause, lua54.ErrNoMemory) {
			debug.FreeOSMemory()
		}
		return cause
	}
	return err
}

// console is the interactive loop: read a chunk, run it, print its values or its error, again.
// Ctrl-D on an empty line exits 0. Whatever ends the process, the terminal is restored as it was.
func (s *Session) console(stdin *os.File) int {
	if state, err := readline.GetState(int(stdin.Fd())); err == nil {
		s.onExit(func() { readline.Restore(int(stdin.Fd()), state) })
	}
	rl, err := s.newLineEditor(stdin)
	if err != nil {
		fmt.Fprintf(s.stderr, "udplab: %v\n", err)
		return 1
	}
	// readline's Close can hang while its reader goroutine sits in read(0) (chzyer/readline#217);
	// the terminal is already restored when Readline returns, so exit does not wait for it.
	defer func() {
		s.editorClosing.Store(true) // the NUL that closing makes is not a ^D (see the filter)
		go rl.Close()
	}()
	s.editor.Store(rl) // step mode's pauses read their key through it
	defer s.editor.Store(nil)
	s.setStdin(&consoleInput{s: s, rl: rl})
	s.rt.SetAsync(rl.Stdout()) // a job's line redraws the prompt after it
	if os.Getenv("NO_COLOR") == "" {
		s.paint = colours
	}
	s.rt.SetWidth(readline.GetScreenWidth)
	s.interactive.Store(true)
	defer s.interactive.Store(false)
	s.rt.StartDiagram() // diagram() draws the session's calls so far
	width := readline.GetScreenWidth()
	if width <= 0 {
		width = 80
	}
	io.WriteString(s.stdout, wrapWords(s.version+": the socket calls are Lua globals. help() lists them; Tab completes; Ctrl-D or exit leaves.", width))

	interrupt := func(sig unix.Signal) bool {
		if sig != unix.SIGINT {
			return false
		}
		s.chunk.cancel(errInterrupted)
		return true
	}
	s.interrupt.Store(&interrupt)
	defer s.interrupt.Store(nil)

	for {
		src, ok := s.readChunk(rl)
		if !ok || isLeave(src) {
			return 0
		}
		err := s.runChunk(src)
		if s.luaOut.take() != "" {
			// the chunk left a line unfinished (io.write("abc")): end it, or the prompt's
			// redraw would erase it
			io.WriteString(s.stdout, "\n")
		}
		switch {
		case err == nil:
		case errors.Is(err, errStepQuit):
			fmt.Fprintln(s.stderr, err.Error())
		case errors.Is(err, errInterrupted):
			// The terminal echoed ^C where the cursor was, on a line that holds nothing of the
			// chunk's (an unfinished one was ended above): "interrupted" takes its place.
			fmt.Fprintln(s.stderr, "\r\x1b[K"+err.Error())
		case errors.Is(err, lua54.ErrNoMemory):
			fmt.Fprintln(s.stderr, err)
		default:
			s.reportWithTraceback(err)
		}
	}
}

// newLineEditor opens the line editor on stdin, with completion and history.
func (s *Session) newLineEditor(stdin *os.File) (*readline.Instance, error) {
	complete := &completer{L: s.L, screen: func() (int, int) {
		ws, err := unix.IoctlGetWinsize(int(stdin.Fd()), unix.TIOCGWINSZ)
		if err != nil {
			return 0, 0
		}
		return int(ws.Col), int(ws.Row)
	}}
	var editor atomic.Pointer[readline.Instance] // for the filter, which runs in the editor's goroutine
	input := newPasteInput(stdin)
	var pasted []rune // the run the filter took for the marker the listener replaces
	history := historyPath()
	keepPrivate(history)
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            prompt,
		HistoryFile:       history,
		HistorySearchFold: true,
		// Only the console's own lines go to the history, not what io.read reads.
		DisableAutoSaveHistory: true,
		AutoComplete:           complete,
		InterruptPrompt:        "^C",
		Stdin:                  input,
		Stdout:                 s.stdout,
		Stderr:                 s.stderr,
		// A ^D typed while a chunk ran (the terminal then in normal mode) may reach the line
		// editor as a NUL: read it as the ^D it was. Ctrl-\ (SIGQUIT while a chunk runs) reaches
		// the editor as the byte 28, which is no part of a line: it does nothing there.
		FuncFilterInputRune: func(r rune) (rune, bool) {
			if key, ok, took := s.stepKeyFilter(r); took {
				return key, ok // a pause of step mode: one key
			}
			switch {
			case r == 0 && !s.editorClosing.Load():
				return readline.CharDelete, true
			case r == ctrlBackslash:
				return r, false
			case r == readline.CharInterrupt && editor.Load() != nil && editor.Load().Operation.IsInCompleteMode():
				// The line editor's Ctrl-C would only close the list of completions: closed
				// here first, Ctrl-C clears the line as it does everywhere else.
				editor.Load().Operation.ExitCompleteMode(true)
			case r == pasteMarker:
				run, ok := input.take()
				if !ok {
					break
				}
				if editor.Load() == nil {
					break
				}
				op := editor.Load().Operation
				if op.IsSearchMode() { // pasted into Ctrl-R's search: what it searches for
					for _, c := range run {
						op.SearchChar(c)
					}
					return r, false
				}
				op.ExitCompleteMode(true) // a paste ends the choice among completions, as a key does
				pasted = run
			}
			return r, true
		},
		// The marker the filter let through is in the line: the run it stands for replaces it.
		Listener: readline.FuncListener(func(line []rune, pos int, key rune) ([]rune, int, bool) {
			if key != pasteMarker || pasted == nil || pos == 0 || line[pos-1] != pasteMarker {
				return nil, 0, false
			}
			run := pasted
			pasted = nil
			whole := make([]rune, 0, len(line)-1+len(run))
			whole = append(append(append(whole, line[:pos-1]...), run...), line[pos:]...)
			return whole, pos - 1 + len(run), true
		}),
		// A terminal that reports 0 columns would turn completion off: assume 80.
		FuncGetWidth: func() int {
			if w := readline.GetScreenWidth(); w > 0 {
				return w
			}
			return 80
		},
	})
	if err != nil {
		return nil, err
	}
	editor.Store(rl)
	// Told from the completer, which runs inside the line editor: written once it has returned,
	// through the editor, which redraws the line after it.
	complete.tell = func(msg string) { go rl.Write([]byte(msg + "\n")) }
	return rl, nil
}

// ctrlBackslash is the byte Ctrl-\ sends.
const ctrlBackslash = 0x1c

// isLeave says the console line is exit or quit, typed alone, which leave the console (in Lua they
// are not a statement: a person means to leave).
func isLeave(src string) bool {
	word := strings.TrimSpace(src)
	return word == "exit" || word == "quit"
}

// readChunk reads lines until they make a complete chunk: the prompt, then the continuation
// prompt. Ctrl-C drops the lines read so far; Ctrl-D drops them, or on an empty prompt ends the
// console (ok false).
func (s *Session) readChunk(rl *readline.Instance) (src string, ok bool) {
	var chunks chunkReader
	for {
		if chunks.empty() {
			rl.SetPrompt(prompt)
		} else {
			rl.SetPrompt(continuationPrompt)
		}
		s.rt.Idle(true)
		line, err := rl.Readline()
		s.rt.Idle(false)
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			chunks.reset()
			continue
		case err == io.EOF && !chunks.empty():
			chunks.reset()
			continue
		case err != nil:
			return "", false
		}
		src, complete := chunks.add(line)
		if complete {
			saveHistory(rl, src)
			return src, true
		}
	}
}

// historyPath is $XDG_STATE_HOME/udplab/history, or ~/.udplab_history without XDG_STATE_HOME
// (or with a relative one, which the XDG spec says to ignore).
func historyPath() string {
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		dir = filepath.Join(dir, "udplab")
		if err := os.MkdirAll(dir, 0o700); err == nil {
			return filepath.Join(dir, "history")
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".udplab_history")
	}
	return ""
}

// keepPrivate makes the history file readable by its owner only, creating it so: it holds
// everything typed at the console, payloads included. An existing one is tightened.
func keepPrivate(path string) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return // the line editor says nothing either: the console works without history
	}
	f.Chmod(0o600)
	f.Close()
}

// familyField is a console line that reads an address's family: getsockname(s).family.
var familyField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\.family\s*$`) })

// familyName names the family a line like getsockname(s).family shows: AF_INET for 2.
func familyName(src string, values []lua.LValue) string {
	if len(values) != 1 || !familyField().MatchString(src) {
		return ""
	}
	if n, ok := values[0].(lua.LNumber); ok {
		for _, c := range sock.Families {
			if float64(c.Value) == float64(n) {
				return c.Name
			}
		}
	}
	return ""
}

// helpOfName is a console line asking for help about a name: help(SO_BROADCAST).
var helpOfName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^\s*help\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*;?\s*$`)
})

// eval runs one chunk of console input under ctx, "return <src>" first so that an expression
// prints its values, as Lua 5.4's console does; "=expr" works too. The values are shown under
// the same protection and context as the chunk: a __tostring that fails or loops is the chunk's
// error, or is interrupted with it.
func (s *Session) eval(ctx context.Context, src string) error {
	L := s.L
	src = strings.TrimPrefix(src, "=")
	// help(SO_BROADCAST) hands help only the number 6, which ENXIO and IPPROTO_TCP share: the
	// console, which sees the name, asks for the name.
	if m := helpOfName().FindStringSubmatch(src); m != nil {
		if v, ok := s.rt.Constant(m[1]); ok && L.GetGlobal(m[1]) == v {
			src = `help("` + m[1] + `")` // the global still holds the constant: not the script's own
		}
	}
	s.sources["stdin"] = src
	fn, err := lua54.Load(L, strings.NewReader("return "+src), "=stdin")
	if err != nil {
		fn, err = lua54.Load(L, strings.NewReader(src), "=stdin")
		if err != nil {
			return err
		}
	}
	L.SetContext(ctx)
	defer L.RemoveContext()
	L.Push(L.NewFunction(func(L *lua.LState) int {
		s.rt.RunHandlers(L) // the signals that came while the console waited
		L.Push(fn)
		L.Call(0, lua.MultRet)
		if n := L.GetTop(); n > 0 {
			values := make([]lua.LValue, n)
			for i := range values {
				values[i] = L.Get(i + 1)
			}
			line := display{L: L, p: s.paint, name: s.rt.FunctionName}.showValues(values)
			if name := familyName(src, values); name != "" {
				line += "\t" + s.paint.paint(s.paint.dim, "-- "+name)
			}
			io.WriteString(s.stdout, line+"\n")
		}
		return 0
	}))
	return s.rt.PCall(L, 0, 0)
}

// reportWithTraceback prints a console error: "file:line: message", then the traceback when it
// has more than the console's own frames (the chunk itself, the Go function that raised).
func (s *Session) reportWithTraceback(err error) {
	apiErr, ok := err.(*lua.ApiError)
	if !ok {
		fmt.Fprintln(s.stderr, s.paint.paint(s.paint.err, err.Error()))
		return
	}
	fmt.Fprintln(s.stderr, s.paint.paint(s.paint.err, s.errorMessage(err)))
	var frames []string
	lua := 0
	for _, line := range strings.Split(strings.TrimSpace(apiErr.StackTrace), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line == "stack traceback:" || line == "[G]: ?":
			continue
		case strings.HasSuffix(line, ": in main chunk"), strings.HasSuffix(line, "in function <stdin:0>"):
			continue // the console line itself
		case !strings.HasPrefix(line, "[G]:"):
			lua++
		}
		frames = append(frames, "\t"+line)
	}
	if lua == 0 {
		return
	}
	if len(frames) > 6 {
		frames = append(frames[:6], "\t...")
	}
	fmt.Fprintln(s.stderr, s.paint.paint(s.paint.dim, "stack traceback:\n"+strings.Join(frames, "\n")))
}

// consoleInput is io.stdin at the console: the line editor owns the terminal (and buffers what it
// reads, so a plain read of stdin would lose lines), so each read of io.read or io.lines takes one
// line from it. What is typed there is not kept in the history.
type consoleInput struct {
	s       *Session
	rl      *readline.Instance
	pending []byte // the rest of the line read last
}

// Read gives the next line, with its "\n"; Ctrl-D is the end of the input, Ctrl-C interrupts the
// chunk that reads.
func (in *consoleInput) Read(p []byte) (int, error) {
	if len(in.pending) == 0 {
		// What the script wrote on this line ("name? ") stays on screen as the prompt.
		in.rl.SetPrompt(in.s.luaOut.take())
		line, err := in.rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			in.s.chunk.cancel(errInterrupted)
			return 0, io.EOF
		case err != nil:
			return 0, io.EOF
		}
		in.pending = append(in.pending[:0], line...)
		in.pending = append(in.pending, '\n')
	}
	n := copy(p, in.pending)
	in.pending = in.pending[n:]
	return n, nil
}
