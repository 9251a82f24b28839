package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/chzyer/readline"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

const (
	prompt             = "udplab> "
	continuationPrompt = "... "
)

// repl runs the console on stdin: a readline prompt when stdin is a terminal, else each complete
// chunk as it is read, with no prompt (exit status 1 if any chunk raised an error).
func (s *session) repl(stdin io.Reader) int {
	f, ok := stdin.(*os.File)
	if !ok || !readline.IsTerminal(int(f.Fd())) {
		return s.batch(stdin)
	}
	return s.console(f)
}

// batch runs stdin chunk by chunk: lines are gathered until they make a complete chunk.
func (s *session) batch(stdin io.Reader) int {
	status := 0
	r := bufio.NewReader(stdin)
	var pending strings.Builder
	for {
		line, err := r.ReadString('\n')
		pending.WriteString(line)
		if src := pending.String(); strings.TrimSpace(src) != "" && (err != nil || !incomplete(src)) {
			pending.Reset()
			if rerr := s.eval(context.Background(), src); rerr != nil {
				s.report(rerr)
				status = 1
			}
		}
		if err != nil {
			return status
		}
	}
}

// console is the interactive loop: read a line, gather lines until the chunk is complete, run it
// under a context that Ctrl-C cancels, print its values or its error, again. Ctrl-C at the
// prompt clears the line; Ctrl-D on an empty line exits 0.
func (s *session) console(stdin *os.File) int {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            prompt,
		HistoryFile:       historyPath(),
		HistorySearchFold: true,
		AutoComplete:      &completer{L: s.L},
		InterruptPrompt:   "^C",
		Stdin:             stdin,
		Stdout:            s.stdout,
		Stderr:            s.stderr,
		// A ^D typed while a chunk ran (the terminal then in normal mode) may reach the line
		// editor as a NUL: read it as the ^D it was.
		FuncFilterInputRune: func(r rune) (rune, bool) {
			if r == 0 {
				return readline.CharDelete, true
			}
			return r, true
		},
		// A terminal that reports 0 columns would turn completion off: assume 80.
		FuncGetWidth: func() int {
			if w := readline.GetScreenWidth(); w > 0 {
				return w
			}
			return 80
		},
	})
	if err != nil {
		fmt.Fprintf(s.stderr, "udplab: %v\n", err)
		return 1
	}
	// readline's Close can hang while its reader goroutine sits in read(0) (chzyer/readline#217);
	// the terminal is already restored when Readline returns, so exit does not wait for it.
	defer func() { go rl.Close() }()
	s.replaceStdinReaders(rl)
	fmt.Fprintf(s.stdout, "%s: the socket calls are Lua globals. help() lists them; Tab completes; Ctrl-D exits.\n", version)

	var mu sync.Mutex
	var cancelChunk context.CancelFunc
	interrupt := func(sig unix.Signal) bool {
		if sig != unix.SIGINT {
			return false
		}
		mu.Lock()
		if cancelChunk != nil {
			cancelChunk()
		}
		mu.Unlock()
		return true
	}
	s.interrupt.Store(&interrupt)

	var pending strings.Builder
	for {
		if pending.Len() == 0 {
			rl.SetPrompt(prompt)
		} else {
			rl.SetPrompt(continuationPrompt)
		}
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			pending.Reset()
			continue
		case err == io.EOF:
			if pending.Len() > 0 {
				pending.Reset()
				continue
			}
			return 0
		case err != nil:
			return 0
		}
		pending.WriteString(line + "\n")
		src := pending.String()
		if strings.TrimSpace(src) == "" {
			pending.Reset()
			continue
		}
		if incomplete(src) {
			continue
		}
		pending.Reset()

		ctx, cancel := context.WithCancel(context.Background())
		mu.Lock()
		cancelChunk = cancel
		mu.Unlock()
		err = s.eval(ctx, src)
		mu.Lock()
		cancelChunk = nil
		interrupted := ctx.Err() != nil
		mu.Unlock()
		cancel()
		switch {
		case err != nil && interrupted:
			io.WriteString(s.stderr, "interrupted\n")
		case err != nil:
			s.reportWithTraceback(err)
		}
	}
}

// historyPath is $XDG_STATE_HOME/udplab/history, or ~/.udplab_history without XDG_STATE_HOME.
func historyPath() string {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
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

// incomplete reports whether src is a chunk cut short: it compiles neither as an expression nor
// as statements, and the parser complains of an unexpected end of input.
func incomplete(src string) bool {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	if _, err := L.LoadString("return " + strings.TrimPrefix(src, "=")); err == nil {
		return false
	}
	if _, err := L.LoadString(src); err != nil {
		return strings.Contains(err.Error(), "EOF")
	}
	return false
}

// eval runs one chunk of console input under ctx, "return <src>" first so that an expression
// prints its values, as Lua 5.4's console does; "=expr" works too.
func (s *session) eval(ctx context.Context, src string) error {
	L := s.L
	src = strings.TrimPrefix(src, "=")
	fn, err := L.Load(strings.NewReader("return "+src), "stdin")
	if err != nil {
		fn, err = L.Load(strings.NewReader(src), "stdin")
		if err != nil {
			return err
		}
	}
	L.SetContext(ctx)
	defer L.RemoveContext()
	top := L.GetTop()
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		return err
	}
	n := L.GetTop() - top
	if n > 0 {
		parts := make([]string, n)
		for i := 0; i < n; i++ {
			parts[i] = showValue(L, L.Get(top+1+i), true)
		}
		L.Pop(n)
		io.WriteString(s.stdout, strings.Join(parts, "\t")+"\n")
	}
	return nil
}

// showValue is how the console prints a value: strings as they are at the top level (quoted
// inside a table), values with __tostring through it, and tables by their contents one level
// deep.
func showValue(L *lua.LState, v lua.LValue, top bool) string {
	switch v := v.(type) {
	case lua.LString:
		if top {
			return string(v)
		}
		return fmt.Sprintf("%q", string(v))
	case *lua.LTable:
		if L.GetMetaField(v, "__tostring") != lua.LNil {
			return L.ToStringMeta(v).String()
		}
		if !top {
			return L.ToStringMeta(v).String()
		}
		return showTable(L, v)
	}
	return L.ToStringMeta(v).String()
}

func showTable(L *lua.LState, t *lua.LTable) string {
	var items []string
	n := t.Len()
	for i := 1; i <= n; i++ {
		items = append(items, showValue(L, t.RawGetInt(i), false))
	}
	var keyed []string
	t.ForEach(func(k, v lua.LValue) {
		if f, ok := k.(lua.LNumber); ok && float64(f) == float64(int(f)) && int(f) >= 1 && int(f) <= n {
			return
		}
		key := showValue(L, k, false)
		if ks, ok := k.(lua.LString); ok && isIdentifier(string(ks)) {
			key = string(ks)
		} else {
			key = "[" + key + "]"
		}
		keyed = append(keyed, key+"="+showValue(L, v, false))
	})
	sort.Strings(keyed)
	return "{" + strings.Join(append(items, keyed...), ", ") + "}"
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// reportWithTraceback prints a console error: "file:line: message", then a short traceback.
func (s *session) reportWithTraceback(err error) {
	apiErr, ok := err.(*lua.ApiError)
	if !ok {
		fmt.Fprintln(s.stderr, err)
		return
	}
	fmt.Fprintln(s.stderr, errorMessage(err))
	if apiErr.StackTrace == "" {
		return
	}
	lines := strings.Split(strings.TrimSpace(apiErr.StackTrace), "\n")
	if len(lines) > 6 {
		lines = append(lines[:6], "\t...")
	}
	fmt.Fprintln(s.stderr, strings.Join(lines, "\n"))
}

// replaceStdinReaders makes io.read() and io.lines() typed at the console read through readline,
// which owns the terminal (and buffers stdin, so a plain read would lose lines).
func (s *session) replaceStdinReaders(rl *readline.Instance) {
	L := s.L
	ioTable, ok := L.GetGlobal("io").(*lua.LTable)
	if !ok {
		return
	}
	readLine := func() (string, bool) {
		rl.SetPrompt("")
		line, err := rl.Readline()
		return line, err == nil
	}
	ioTable.RawSetString("read", L.NewFunction(func(L *lua.LState) int {
		format := L.OptString(1, "l")
		line, ok := readLine()
		if !ok {
			L.Push(lua.LNil)
			return 1
		}
		switch strings.TrimPrefix(format, "*") {
		case "n":
			L.Push(lua.LVAsNumber(lua.LString(strings.TrimSpace(line))))
		case "L":
			L.Push(lua.LString(line + "\n"))
		default:
			L.Push(lua.LString(line))
		}
		return 1
	}))
	ioTable.RawSetString("lines", L.NewFunction(func(L *lua.LState) int {
		L.Push(L.NewFunction(func(L *lua.LState) int {
			if line, ok := readLine(); ok {
				L.Push(lua.LString(line))
			} else {
				L.Push(lua.LNil)
			}
			return 1
		}))
		return 1
	}))
}
