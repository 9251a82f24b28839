package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/luabind"
)

// Scripts from the console: run("pinned") runs a script to its end, in this process and this
// terminal (it reads what is typed, Ctrl-C reaches its handlers); bg("udpconnectserver") starts
// one in the background, as another udplab process, its lines prefixed with its name, so that
// no second terminal is needed; jobs() lists them with their sockets; stop(job) ends one as
// Ctrl-C would.

// job is a script started by bg.
type job struct {
	id   int
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has ended and its output is all written
	code int           // its exit status, once done
}

// jobsState is the session's background jobs.
type jobsState struct {
	mu    sync.Mutex
	list  []*job
	next  int
	async io.Writer // where their lines go: the line editor's, which redraws the prompt after
	mt    *lua.LTable
}

// installJobs adds run, bg, jobs and stop to the session's Lua state, and lists the jobs'
// sockets after sockets().
func (s *Session) installJobs() {
	L := s.L
	s.jobs.mt = L.NewTypeMetatable("udplab.job")
	s.jobs.mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(s.describeJob(s.checkJob(L, 1, "tostring"))))
		return 1
	}))
	s.rt.AddFunction(L, "run", s.runCall, luabind.Help{Synopsis: "run(script[, arg...])",
		Summary: `run a script to its end in this terminal (Ctrl-C reaches its handlers): run("pinned"), or a file`,
		Returns: "its exit status", Group: "scripts", Type: "integer"})
	s.rt.AddFunction(L, "bg", s.bgCall, luabind.Help{Synopsis: "bg(script[, arg...])",
		Summary: `start a script in the background, as another udplab, its lines prefixed with its name: bg("udpconnectserver")`,
		Returns: "the job, for stop", Group: "scripts", Type: "job"})
	s.rt.AddFunction(L, "jobs", s.jobsCall, luabind.Help{Synopsis: "jobs()",
		Summary: "list the scripts bg started, with the sockets of those still running", Returns: "nothing", Group: "scripts"})
	s.rt.AddFunction(L, "stop", s.stopCall, luabind.Help{Synopsis: "stop(job)",
		Summary: "end a job as Ctrl-C would (SIGINT, then SIGKILL a second later)", Returns: "its exit status", Group: "scripts",
		Type: "integer"})
	if sockets, ok := L.GetGlobal("sockets").(*lua.LFunction); ok {
		s.rt.AddFunction(L, "sockets", func(L *lua.LState) int {
			for _, j := range s.runningJobs() {
				for _, line := range procSockets(j.cmd.Process.Pid) {
					fmt.Fprintf(s.luaOut, "[%s] %s\n", j.name, line)
				}
			}
			L.Push(sockets)
			L.Call(0, 1)
			return 1
		}, luabind.Help{Synopsis: "sockets()", Summary: "the sockets open now; the background jobs' sockets are printed first",
			Returns: "a table of sockets", Group: "sockets", Type: "socket[]"})
	}
	s.onExit(s.stopJobs)
}

// scriptArgs reads a script's name and its arguments from the stack, as strings.
func scriptArgs(L *lua.LState, fname string) (string, []string) {
	name, ok := L.Get(1).(lua.LString)
	if !ok {
		argError(L, 1, fname, "string expected, got "+typeName(L, 1))
	}
	var argv []string
	for i := 2; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString, lua.LNumber:
			argv = append(argv, lua.LVAsString(v))
		default:
			argError(L, i, fname, "string expected, got "+typeName(L, i))
		}
	}
	return string(name), argv
}

// argError raises Lua's "bad argument #n to 'fname' (msg)".
func argError(L *lua.LState, n int, fname, msg string) {
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fname, msg)
}

// typeName is the type of argument n as Lua's errors name it: "no value" when there is none.
func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

// runCall is run(name, ...): the script runs to its end in a Lua state of its own, reading and
// writing the console's input and output; it returns the script's exit status.
func (s *Session) runCall(L *lua.LState) int {
	name, argv := scriptArgs(L, "run")
	parent := L.Context()
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	child := lua.NewState()
	defer child.Close()
	code, exited := 0, false
	errExit := errors.New("exit")
	rt := luabind.Open(child, luabind.Options{
		Stdout: s.luaOut,
		Stderr: s.luaErr,
		Stdin:  s.stdinSource,
		Lib:    shippedLib(),
		Exit: func(status int) {
			code, exited = status, true
			cancel()
			child.RaiseError("%s", errExit.Error())
		},
		OnSignal: func(sig unix.Signal) { signal.Notify(s.sigs, sig) },
	})
	s.foreground.Store(rt)
	defer s.foreground.Store(nil)
	defer rt.Shutdown()
	child.SetContext(ctx)
	sub := &Session{L: child, rt: rt, stdout: s.stdout, stderr: s.stderr, sources: map[string]string{}, luaOut: s.luaOut, luaErr: s.luaErr}
	err := sub.RunScript(name, argv, nil)
	rt.FlushFiles(child)
	switch {
	case exited || err == nil:
	case parent.Err() != nil:
		L.RaiseError("%s", errInterrupted.Error())
	default:
		sub.Report(err)
		code = 1
	}
	L.Push(lua.LNumber(code))
	return 1
}

// bgCall is bg(name, ...): the script starts in the background, as another udplab process; its
// output comes back line by line, prefixed with its name. It returns the job.
func (s *Session) bgCall(L *lua.LState) int {
	name, argv := scriptArgs(L, "bg")
	self, err := os.Executable()
	if err != nil {
		L.RaiseError("bg: %v", err)
	}
	cmd := exec.Command(self, append([]string{name}, argv...)...)
	// Its own process group, so that Ctrl-C at the console does not reach it; it dies with
	// udplab.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		L.RaiseError("bg: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		L.RaiseError("bg: %v", err)
	}
	s.jobs.mu.Lock()
	s.jobs.next++
	j := &job{id: s.jobs.next, name: strings.TrimSuffix(filepath.Base(name), ".lua"), cmd: cmd, done: make(chan struct{})}
	s.jobs.list = append(s.jobs.list, j)
	async := s.jobs.async
	s.jobs.mu.Unlock()
	if async == nil {
		async = s.stdout
	}
	go func() {
		lines := bufio.NewScanner(out)
		lines.Buffer(make([]byte, 4096), 1<<20)
		for lines.Scan() {
			fmt.Fprintf(async, "[%s] %s\n", j.name, lines.Text())
		}
		cmd.Wait()
		j.code = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			j.code = 128 + int(ws.Signal())
		}
		fmt.Fprintf(async, "[%s] ended, status %d\n", j.name, j.code) // before done: stop() returns after it
		close(j.done)
	}()
	// Wait until the script has opened what it opens first (its socket), or briefly: a client
	// typed next then finds the server there.
	waitForSockets(cmd.Process.Pid, j.done, time.Second)
	ud := L.NewUserData()
	ud.Value = j
	ud.Metatable = s.jobs.mt
	L.Push(ud)
	return 1
}

// waitForSockets waits, at most bound, until process pid has a socket bound to a port.
func waitForSockets(pid int, done chan struct{}, bound time.Duration) {
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-done:
			return
		default:
		}
		for _, line := range procSockets(pid) {
			if !strings.HasSuffix(strings.Fields(line)[1], ":0") {
				return
			}
		}
	}
}

func (s *Session) checkJob(L *lua.LState, n int, fname string) *job {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if j, ok := ud.Value.(*job); ok {
			return j
		}
	}
	argError(L, n, fname, "job expected, got "+typeName(L, n))
	return nil
}

// describeJob is a job as jobs() and tostring show it.
func (s *Session) describeJob(j *job) string {
	select {
	case <-j.done:
		return fmt.Sprintf("[%d] %s (pid %d): ended, status %d", j.id, j.name, j.cmd.Process.Pid, j.code)
	default:
		return fmt.Sprintf("[%d] %s (pid %d): running", j.id, j.name, j.cmd.Process.Pid)
	}
}

func (s *Session) runningJobs() []*job {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	var running []*job
	for _, j := range s.jobs.list {
		select {
		case <-j.done:
		default:
			running = append(running, j)
		}
	}
	return running
}

// jobsCall is jobs(): one line per job started by bg, with the sockets of those still running.
func (s *Session) jobsCall(L *lua.LState) int {
	s.jobs.mu.Lock()
	list := append([]*job(nil), s.jobs.list...)
	s.jobs.mu.Unlock()
	if len(list) == 0 {
		fmt.Fprintln(s.luaOut, "no jobs (bg(\"udpconnectserver\") starts one)")
	}
	for _, j := range list {
		fmt.Fprintln(s.luaOut, s.describeJob(j))
		select {
		case <-j.done:
		default:
			for _, line := range procSockets(j.cmd.Process.Pid) {
				fmt.Fprintln(s.luaOut, "    "+line)
			}
		}
	}
	return 0
}

// stopCall is stop(job): SIGINT, as Ctrl-C in its own terminal (the pinned server then prints
// its count), SIGKILL if it has not ended a second later; it returns the exit status.
func (s *Session) stopCall(L *lua.LState) int {
	j := s.checkJob(L, 1, "stop")
	L.Push(lua.LNumber(stopJob(j)))
	return 1
}

func stopJob(j *job) int {
	j.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-j.done:
	case <-time.After(time.Second):
		j.cmd.Process.Kill()
		<-j.done
	}
	return j.code
}

// stopJobs ends the jobs still running, when the console ends.
func (s *Session) stopJobs() {
	for _, j := range s.runningJobs() {
		j.cmd.Process.Kill()
	}
}

// procSockets describes the UDP sockets process pid holds, from /proc: "udp 0.0.0.0:43211" and,
// when connected, "-> 127.0.0.1:51234".
func procSockets(pid int) []string {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, table := range []string{"udp", "udp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			desc := "udp " + procAddr(f[1])
			if remote := procAddr(f[2]); !strings.HasSuffix(remote, ":0") {
				desc += " -> " + remote
			}
			out = append(out, desc)
		}
	}
	return out
}

// procAddr reads an address of /proc/net/udp ("0100007F:A8CB", the IP in the kernel's byte
// order) as "127.0.0.1:43211".
func procAddr(hex string) string {
	ipHex, portHex, ok := strings.Cut(hex, ":")
	if !ok {
		return hex
	}
	port, _ := strconv.ParseUint(portHex, 16, 16)
	var ip []byte
	for i := 0; i+8 <= len(ipHex); i += 8 {
		word, _ := strconv.ParseUint(ipHex[i:i+8], 16, 32)
		ip = append(ip, byte(word), byte(word>>8), byte(word>>16), byte(word>>24))
	}
	if len(ip) == 16 {
		return fmt.Sprintf("[%s]:%d", netip.AddrFrom16([16]byte(ip)), port)
	}
	return fmt.Sprintf("%d.%d.%d.%d:%d", ip[0], ip[1], ip[2], ip[3], port)
}
