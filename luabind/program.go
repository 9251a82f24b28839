package luabind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/lab"
	"github.com/udplab/udplab/sock"
)

// Real programs on a lab's hosts: net.a:exec{"./udpconnectclient", net.b.addr} runs one in host
// a's network namespace and waits for it; net.b:spawn{...} starts one in the background.

// outputKept is how much of a program's standard output, and of its standard error, exec keeps
// to return; the rest is read and dropped, and a line on stderr says so.
const outputKept = 1 << 20

// stopGrace is how long a program has to end after SIGINT (Ctrl-C, stop) before it is killed.
const stopGrace = 2 * time.Second

// program is what exec and spawn read from their arguments.
type program struct {
	lab.Program
	name    string        // argv[1], as given: what messages call it
	stdin   *string       // opts.stdin
	timeout time.Duration // opts.timeout; 0: none
}

// programOf reads argv (argument 2) and opts (argument 3) of host:exec or host:spawn.
func programOf(a args) *program {
	L := a.L
	list, ok := L.Get(2).(*lua.LTable)
	if !ok {
		if L.Get(2).Type() == lua.LTString {
			a.argError(2, "a list of arguments expected ({\"prog\", \"arg1\", ...}), got string: no shell runs it, so there is no quoting to get wrong")
		}
		a.typeError(2, "table")
	}
	p := &program{}
	n := list.Len()
	if n == 0 {
		a.argError(2, "the list is empty: give the program first, then its arguments")
	}
	list.ForEach(func(k, _ lua.LValue) {
		if i, ok := k.(lua.LNumber); !ok || float64(i) != float64(int(i)) || int(i) < 1 || int(i) > n {
			a.argError(2, fmt.Sprintf("a list of arguments expected, with no other key (got %s)", lua.LVAsString(k)))
		}
	})
	for i := 1; i <= n; i++ {
		v := list.RawGetInt(i)
		if v.Type() != lua.LTString && v.Type() != lua.LTNumber {
			a.argError(2, fmt.Sprintf("argument %d of the program must be a string, got %s", i, v.Type()))
		}
		s := lua.LVAsString(v)
		if strings.IndexByte(s, 0) >= 0 {
			a.argError(2, fmt.Sprintf("argument %d of the program holds a zero byte, which no program can receive", i))
		}
		p.Argv = append(p.Argv, s)
	}
	p.name = p.Argv[0]
	if p.name == "" {
		a.argError(2, "the program's name is empty")
	}
	env := map[string]*string{}
	if v := L.Get(3); v != lua.LNil {
		opts := a.table(3)
		opts.ForEach(func(k, v lua.LValue) {
			key := lua.LVAsString(k)
			bad := func(want string) {
				a.argError(3, fmt.Sprintf("opts.%s: %s expected, got %s", key, want, v.Type()))
			}
			switch key {
			case "stdin":
				if v.Type() != lua.LTString {
					bad("string")
				}
				s := lua.LVAsString(v)
				p.stdin = &s
			case "timeout":
				f, ok := v.(lua.LNumber)
				if !ok {
					bad("number")
				}
				if !(f > 0 && f <= 86400) {
					a.argError(3, "opts.timeout: seconds, more than 0 and at most 86400")
				}
				p.timeout = time.Duration(float64(f) * float64(time.Second))
			case "cwd":
				if v.Type() != lua.LTString {
					bad("string")
				}
				p.Dir = lua.LVAsString(v)
			case "env":
				t, ok := v.(*lua.LTable)
				if !ok {
					bad("table")
				}
				t.ForEach(func(name, value lua.LValue) {
					ns, ok := name.(lua.LString)
					if !ok || ns == "" || strings.ContainsAny(string(ns), "=\x00") {
						a.argError(3, "opts.env: give {NAME = \"value\", ...} (false removes a variable)")
					}
					switch value.Type() {
					case lua.LTString, lua.LTNumber:
						s := lua.LVAsString(value)
						if strings.IndexByte(s, 0) >= 0 {
							a.argError(3, fmt.Sprintf("opts.env.%s holds a zero byte", ns))
						}
						env[string(ns)] = &s
					case lua.LTBool:
						if lua.LVAsBool(value) {
							a.argError(3, fmt.Sprintf("opts.env.%s: a string, or false to remove it", ns))
						}
						env[string(ns)] = nil
					default:
						a.argError(3, fmt.Sprintf("opts.env.%s: string expected, got %s", ns, value.Type()))
					}
				})
			default:
				a.argError(3, fmt.Sprintf("unknown option '%s' (stdin, timeout, env, cwd)", key))
			}
		})
	}
	p.Env = environ(env)
	return p
}

// environ is udplab's environment with changes: a nil value removes the variable.
func environ(changes map[string]*string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, changed := changes[name]; !changed {
			out = append(out, kv)
		}
	}
	names := make([]string, 0, len(changes))
	for name := range changes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if v := changes[name]; v != nil {
			out = append(out, name+"="+*v)
		}
	}
	return out
}

// resolve finds the program to run: "udplab" is this udplab; a name with a slash is a path
// (from opts.cwd when it is relative); another name is looked up in the PATH of its
// environment. The error is the one execve would give, with the program's name.
func (p *program) resolve() error {
	if p.Dir != "" {
		// a missing folder would fail the exec with ENOENT, which would read as a missing program
		if st, err := os.Stat(p.Dir); err != nil {
			errno := sock.ErrnoOf(err)
			return &lab.Error{Msg: "cwd " + p.Dir + ": " + sock.Strerror(errno), Errno: errno}
		} else if !st.IsDir() {
			return &lab.Error{Msg: "cwd " + p.Dir + ": " + sock.Strerror(unix.ENOTDIR), Errno: unix.ENOTDIR}
		}
	}
	name := p.Argv[0]
	switch {
	case name == "udplab":
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		p.Path = exe
		return nil
	case strings.Contains(name, "/"):
		p.Path = name
		if !filepath.IsAbs(name) && p.Dir != "" {
			p.Path = filepath.Join(p.Dir, name)
		}
		abs, err := filepath.Abs(p.Path)
		if err != nil {
			return err
		}
		p.Path = abs
		return nil
	}
	path := ""
	for _, kv := range p.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		candidate := filepath.Join(dir, name)
		if !filepath.IsAbs(candidate) && p.Dir != "" {
			candidate = filepath.Join(p.Dir, candidate)
		}
		if st, err := os.Stat(candidate); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			abs, err := filepath.Abs(candidate)
			if err != nil {
				return err
			}
			p.Path = abs
			return nil
		}
	}
	return &lab.Error{Msg: name + ": " + sock.Strerror(unix.ENOENT), Errno: unix.ENOENT}
}

// programError is the failure of starting p: "x: No such file or directory", 2.
func (p *program) programError(err error) error {
	var le *lab.Error
	if errors.As(err, &le) && le.Errno != 0 && le.Errno != unix.EBADF && !strings.HasPrefix(le.Msg, p.name+": ") && !strings.Contains(le.Msg, "helper") {
		return &lab.Error{Msg: p.name + ": " + sock.Strerror(le.Errno), Errno: le.Errno}
	}
	return err
}

// capture reads a program's output into a buffer of at most outputKept bytes, dropping and
// counting the rest; lines, when not nil, gets each line as it comes.
type capture struct {
	r       *os.File
	buf     bytes.Buffer
	dropped int64
	done    chan struct{}
}

func newCapture(r *os.File, lines func(string)) *capture {
	c := &capture{r: r, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		chunk := make([]byte, 32<<10)
		var partial []byte
		for {
			n, err := r.Read(chunk)
			data := chunk[:n]
			if keep := min(int64(len(data)), int64(outputKept-c.buf.Len())); keep > 0 {
				c.buf.Write(data[:keep])
				c.dropped += int64(len(data)) - keep
			} else {
				c.dropped += int64(len(data))
			}
			if lines != nil {
				partial = append(partial, data...)
				for {
					i := bytes.IndexByte(partial, '\n')
					if i < 0 {
						break
					}
					lines(string(partial[:i]))
					partial = partial[i+1:]
				}
				if len(partial) > outputKept {
					lines(string(partial))
					partial = partial[:0]
				}
			}
			if err != nil {
				if lines != nil && len(partial) > 0 {
					lines(string(partial))
				}
				return
			}
		}
	}()
	return c
}

// finish waits until the program's output has all come (its end of the pipe closed), or, when
// something it started still holds that end, for linger after the program ended; then it stops
// reading.
func (c *capture) finish(linger time.Duration) {
	select {
	case <-c.done:
	case <-time.After(linger):
		c.r.SetReadDeadline(time.Now())
		<-c.done
	}
	c.r.Close()
}

// pipes makes the pipes of a program's standard files: for each of in, out and err, the end the
// program gets and the end udplab keeps (nil where udplab's own file is given).
type pipes struct {
	child [3]*os.File
	mine  [3]*os.File
}

func (ps *pipes) closeChild() {
	for _, f := range ps.child {
		if f != nil {
			f.Close()
		}
	}
}

func (ps *pipes) closeAll() {
	ps.closeChild()
	for _, f := range ps.mine {
		if f != nil {
			f.Close()
		}
	}
}

// pipe gives the program end and udplab's end of a new pipe for standard file i (0: udplab
// writes, else udplab reads).
func (ps *pipes) pipe(i int) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	if i == 0 {
		ps.child[i], ps.mine[i] = r, w
	} else {
		ps.child[i], ps.mine[i] = w, r
	}
	return nil
}

// devNull opens /dev/null as a program's standard input.
func (ps *pipes) devNull() error {
	f, err := os.Open(os.DevNull)
	ps.child[0] = f
	return err
}

// feed writes s to w in the background and closes w: a program that does not read it all, or
// closes its input early, costs a write that fails (EPIPE), not a hang.
func feed(w *os.File, s string) {
	go func() {
		io.WriteString(w, s)
		w.Close()
	}()
}

// execHelp is host:exec's help, with the other methods' (labhelp.go).
var execHelp = helpEntry{
	`net.a:exec(argv[, opts])`,
	`run a program in the host and wait for it: net.a:exec{"./udpconnectclient", net.b.addr}`,
	"status, stdout, stderr (status: the exit status); a program killed by a signal:\n" +
		"nil, \"killed by signal 9\", 137, stdout, stderr; on failure to start nil, message,\n" +
		"errno (\"x: No such file or directory\", 2). argv is a list: no shell runs it.\n" +
		"opts: stdin (a string to feed it), timeout (seconds, then it is killed), env\n" +
		"({NAME = \"value\"} added to udplab's; false removes one), cwd. At the console,\n" +
		"with no stdin, it runs on the terminal (it reads the keyboard; Ctrl-C goes to\n" +
		"it) and only the status is returned. Ctrl-C sends it SIGINT, and SIGKILL 2 s\n" +
		"later. stdout and stderr are kept up to 1 MiB each (a line says what was\n" +
		"dropped). \"udplab\" runs this udplab: its sockets open in the host.",
	"ENOENT (2)  no such program\nEACCES (13)  the program is not executable\nEBADF (9)  the network is closed"}

// hostExec is host:exec(argv[, opts]).
func (rt *Runtime) hostExec(a args, h labHost) int {
	L := a.L
	p := programOf(a)
	if err := p.resolve(); err != nil {
		return labResult(a, 2, err)
	}
	terminal := rt.opts.Terminal != nil && rt.opts.Terminal() && p.stdin == nil
	var ps pipes
	defer ps.closeAll()
	var err error
	switch {
	case terminal:
		ps.child = [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	case p.stdin != nil:
		err = ps.pipe(0)
	default:
		err = ps.devNull()
	}
	for i := 1; i <= 2 && err == nil && !terminal; i++ {
		err = ps.pipe(i)
	}
	if err != nil {
		return pushFailure(L, err)
	}
	proc, err := h.net.Exec(h.name, p.Program, ps.child[0], ps.child[1], ps.child[2])
	if terminal {
		ps.child = [3]*os.File{} // udplab's own
	}
	ps.closeChild()
	if err != nil {
		return labResult(a, 2, p.programError(err))
	}
	if p.stdin != nil {
		feed(ps.mine[0], *p.stdin)
		ps.mine[0] = nil
	}
	var out, errOut *capture
	if !terminal {
		out, errOut = newCapture(ps.mine[1], nil), newCapture(ps.mine[2], nil)
		ps.mine[1], ps.mine[2] = nil, nil
	}
	ws, interrupted := rt.waitProgram(L, proc, p.timeout)
	var stdout, stderr lua.LValue = lua.LNil, lua.LNil
	if !terminal {
		out.finish(100 * time.Millisecond)
		errOut.finish(100 * time.Millisecond)
		for _, c := range []struct {
			what string
			c    *capture
		}{{"stdout", out}, {"stderr", errOut}} {
			if c.c.dropped > 0 {
				fmt.Fprintf(rt.stderr(), "udplab: exec: kept the first %d bytes of %s's %s, dropped %d more\n", outputKept, p.name, c.what, c.c.dropped)
			}
		}
		stdout, stderr = lua.LString(out.buf.String()), lua.LString(errOut.buf.String())
	}
	if interrupted != nil {
		L.RaiseError("%s", interrupted.Error())
	}
	return pushStatus(L, ws, stdout, stderr)
}

// pushStatus pushes how a program ended: its exit status, or nil, "killed by signal N", 128+N;
// then stdout and stderr when they are not nil.
func pushStatus(L *lua.LState, ws syscall.WaitStatus, stdout, stderr lua.LValue) int {
	n := 1
	if ws.Signaled() {
		L.Push(lua.LNil)
		L.Push(lua.LString(fmt.Sprintf("killed by signal %d", int(ws.Signal()))))
		L.Push(intValue(128 + int(ws.Signal())))
		n = 3
	} else {
		L.Push(intValue(ws.ExitStatus()))
	}
	if stdout != lua.LNil {
		L.Push(stdout)
		L.Push(stderr)
		n += 2
	}
	return n
}

// waitProgram waits for proc to end, at most timeout (then SIGKILL) when it is not 0. Ctrl-C
// sends it SIGINT, as a terminal would, and SIGKILL if it has not ended stopGrace later. It
// returns the status and, when the run itself is being interrupted (Ctrl-C with no handler),
// the error to raise once the caller has what it needs.
func (rt *Runtime) waitProgram(L *lua.LState, proc *lab.Process, timeout time.Duration) (syscall.WaitStatus, error) {
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		ctx, cancel := context.WithCancel(rt.waitContext(L))
		var once sync.Once
		stopTimer := make(chan struct{})
		go func() {
			select {
			case <-deadline:
				once.Do(func() { proc.Signal(syscall.SIGKILL) })
			case <-stopTimer:
			}
		}()
		ws, err := proc.Wait(ctx)
		close(stopTimer)
		cancel()
		if err == nil {
			return ws, nil
		}
		// Woken by a signal: Ctrl-C goes on to the program, which has stopGrace to end.
		sigint := rt.pending.Load()&(1<<uint(unix.SIGINT)) != 0
		parentDone := L.Context() != nil && L.Context().Err() != nil
		if sigint || parentDone {
			proc.Signal(syscall.SIGINT)
			grace, cancelGrace := context.WithTimeout(context.Background(), stopGrace)
			ws, err = proc.Wait(grace)
			cancelGrace()
			if err != nil {
				proc.Signal(syscall.SIGKILL)
				ws, _ = proc.Wait(context.Background())
			}
			if parentDone {
				return ws, L.Context().Err()
			}
			rt.interrupted(L, context.Canceled) // runs the handlers
			return ws, nil
		}
		rt.interrupted(L, context.Canceled) // another signal's handler: wait again
	}
}

var shippedBinding = binding{name: "shipped", fn: (*Runtime).shippedCall, help: helpEntry{
	`shipped(name)`, `the text of a file udplab ships: shipped("c/udpconnectclient.c"), shipped("refused.lua")`,
	"the text; nil, message, errno when udplab ships no such file. The lesson's C programs are\n" +
		"c/udpconnectclient.c, c/udpconnectclient2.c, c/udpconnectserver.c and c/lesson.h.",
	"ENOENT (2)  no such file"}}

// shippedCall is shipped(name): a file of the scripts udplab ships, by its path there.
func (rt *Runtime) shippedCall(a args) int {
	name := strings.TrimPrefix(a.string(1), "scripts/")
	if rt.opts.Shipped == nil {
		return pushFailure(a.L, unix.ENOENT)
	}
	b, err := fs.ReadFile(rt.opts.Shipped, name)
	if err != nil {
		return pushFailure(a.L, unix.ENOENT)
	}
	a.L.Push(lua.LString(b))
	return 1
}

// spawnHelp is host:spawn's help, with the other methods' (labhelp.go).
var spawnHelp = helpEntry{
	`net.a:spawn(argv[, opts])`,
	`start a program in the host, in the background: net.b:spawn{"udplab", "udpconnectserver"}`,
	"a job: its lines are printed as they come, prefixed [b udpconnectserver]; jobs()\n" +
		"lists it with its sockets, stop(job) sends SIGINT (SIGKILL 2 s later),\n" +
		"job:write(data) feeds its input, job:wait([timeout]) returns as exec does. opts\n" +
		"as exec's (stdin, given, is its whole input). It waits up to 1 s for the\n" +
		"program's first socket, so that a client started next finds the server.",
	"ENOENT (2)  no such program\nEACCES (13)  the program is not executable\nEBADF (9)  the network is closed"}

// hostSpawn is host:spawn(argv[, opts]).
func (rt *Runtime) hostSpawn(a args, h labHost) int {
	L := a.L
	p := programOf(a)
	if err := p.resolve(); err != nil {
		return labResult(a, 2, err)
	}
	var ps pipes
	var err error
	for i := 0; i <= 2 && err == nil; i++ {
		err = ps.pipe(i)
	}
	if err != nil {
		ps.closeAll()
		return pushFailure(L, err)
	}
	proc, err := h.net.Exec(h.name, p.Program, ps.child[0], ps.child[1], ps.child[2])
	ps.closeChild()
	if err != nil {
		ps.closeAll()
		return labResult(a, 2, p.programError(err))
	}
	stdin := ps.mine[0]
	if p.stdin != nil {
		feed(stdin, *p.stdin)
		stdin = nil
	}
	name := filepath.Base(p.Argv[0])
	if p.Argv[0] == "udplab" && len(p.Argv) > 1 && !strings.HasPrefix(p.Argv[1], "-") {
		name = strings.TrimSuffix(filepath.Base(p.Argv[1]), ".lua") // the script it runs
	}
	j := rt.StartJob(JobSpec{Name: name, Host: h.name, Pid: proc.Pid, Signal: proc.Signal,
		Stdin: stdin, Stdout: ps.mine[1], Stderr: ps.mine[2],
		Wait: func() syscall.WaitStatus {
			ws, _ := proc.Wait(context.Background())
			return ws
		}})
	if p.timeout > 0 {
		time.AfterFunc(p.timeout, func() { proc.Signal(syscall.SIGKILL) })
	}
	j.WaitForSockets(time.Second)
	rt.pushJob(L, j)
	return 1
}
