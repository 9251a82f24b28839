package console

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/luabind"
	"github.com/udplab/udplab/scripts"
)

// Scripts from the console: run("pinned") runs a script to its end, in this process and this
// terminal (it reads what is typed, Ctrl-C reaches its handlers); bg("udpconnectserver") starts
// one in the background, as another udplab process, its lines prefixed with its name, so that
// no second terminal is needed; jobs() lists them with their sockets; stop(job) ends one as
// Ctrl-C would.

// RecordEnv names the descriptor a script bg started writes its calls to, for the console's
// picture (luabind's StreamRecording).
const RecordEnv = "UDPLAB_RECORD_FD"

// installJobs adds run and bg to the session's Lua state (jobs and stop are luabind's), and
// lists the jobs' sockets after sockets().
func (s *Session) installJobs() {
	L := s.L
	s.rt.AddFunction(L, "run", s.runCall, luabind.Help{Synopsis: "run(script[, arg...])",
		Summary: `run a script to its end in this terminal (Ctrl-C reaches its handlers): run("pinned"), or a file`,
		Returns: "its exit status", Group: "scripts", Type: "integer"})
	s.rt.AddFunction(L, "bg", s.bgCall, luabind.Help{Synopsis: "bg(script[, arg...])",
		Summary: `start a script in the background, as another udplab, its lines prefixed with its name: bg("udpconnectserver")`,
		Returns: "the job, for stop", Group: "scripts", Type: "job"})
	if sockets, ok := L.GetGlobal("sockets").(*lua.LFunction); ok {
		s.rt.AddFunction(L, "sockets", func(L *lua.LState) int {
			for _, j := range s.rt.Running() {
				for _, line := range j.Sockets() {
					fmt.Fprintf(s.luaOut, "[%s] %s\n", j.Name(), line)
				}
			}
			L.Push(sockets)
			L.Call(0, 1)
			return 1
		}, luabind.Help{Synopsis: "sockets()", Summary: "the sockets open now; the background jobs' sockets are printed first",
			Returns: "a table of sockets", Group: "sockets", Type: "socket[]"})
	}
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
	code, exited, quit := 0, false, false
	errExit := errors.New("exit")
	rt := luabind.Open(child, luabind.Options{
		Stdout:   s.luaOut,
		Stderr:   s.luaErr,
		Stdin:    s.stdinSource,
		Lib:      shippedLib(),
		Shipped:  scripts.FS,
		Terminal: s.interactive.Load,
		Exit: func(status int) {
			code, exited = status, true
			cancel()
			child.RaiseError("%s", errExit.Error())
		},
		OnSignal: func(sig unix.Signal) { signal.Notify(s.sigs, sig) },
		Step: func(L *lua.LState, next string) (luabind.StepAnswer, error) {
			answer, err := s.stepPause(L, next)
			if errors.Is(err, luabind.ErrStepQuit) {
				quit = true // q ends udplab, not only this script
			}
			return answer, err
		},
	})
	rt.Step(s.rt.Stepping())                                             // step mode steps through the script too
	rt.RecordInto(s.rt, strings.TrimSuffix(filepath.Base(name), ".lua")) // its calls are on the console's picture
	s.foreground.Store(rt)
	defer s.foreground.Store(nil)
	defer rt.Shutdown()
	child.SetContext(ctx)
	sub := &Session{L: child, rt: rt, stdout: s.stdout, stderr: s.stderr, sources: map[string]string{}, luaOut: s.luaOut, luaErr: s.luaErr}
	err := sub.RunScript(name, argv, nil)
	rt.FlushFiles(child)
	if quit {
		s.rt.FlushFiles(L)
		s.rt.Exit(0)
	}
	switch {
	case exited || err == nil:
	case parent.Err() != nil:
		L.RaiseError("%s", parent.Err().Error()) // interrupted, or quit at a pause of step mode
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
	r, w, err := os.Pipe()
	if err != nil {
		L.RaiseError("bg: %v", err)
	}
	cmd := exec.Command(self, append([]string{name}, argv...)...)
	cmd.Stdout, cmd.Stderr = w, w
	jobName := strings.TrimSuffix(filepath.Base(name), ".lua")
	var calls *os.File // its calls, for the console's picture
	if s.rt.Recording() {
		var theirs *os.File
		calls, theirs, err = os.Pipe()
		if err == nil {
			cmd.ExtraFiles = []*os.File{theirs}
			cmd.Env = append(os.Environ(), RecordEnv+"=3")
			defer theirs.Close()
		}
	}
	// Its own process group, so that Ctrl-C at the console does not reach it; it dies with
	// udplab.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		if calls != nil {
			calls.Close()
		}
		L.RaiseError("bg: %v", err)
	}
	if calls != nil {
		go func() {
			s.rt.ReadRecording(calls, jobName)
			calls.Close()
		}()
	}
	j := s.rt.StartJob(luabind.JobSpec{
		Name:   jobName,
		Pid:    cmd.Process.Pid,
		Signal: func(sig syscall.Signal) error { return cmd.Process.Signal(sig) },
		Stdout: r,
		Wait: func() syscall.WaitStatus {
			cmd.Wait()
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			return ws
		},
	})
	j.WaitForSockets(time.Second)
	s.rt.PushJob(L, j)
	return 1
}
