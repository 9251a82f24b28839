// Package console is udplab's front end: a session holding one Lua state with udplab's
// libraries, the script runner, and the interactive console (a readline prompt, or chunks read
// from a pipe) with completion and value display.
package console

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/luabind"
)

// Options configures a Session.
type Options struct {
	Stdout, Stderr io.Writer
	// Version names the program in the console's banner: "udplab 0.1.0".
	Version string
}

// Session is one Lua state with udplab's libraries, and how it talks to the terminal.
type Session struct {
	L       *lua.LState
	rt      *luabind.Runtime
	stdout  io.Writer
	stderr  io.Writer
	version string
	sigs    chan os.Signal
	// interrupt, set by the console, sees a signal before any Lua handler does (Ctrl-C there
	// cancels the running chunk) and reports whether it dealt with it.
	interrupt atomic.Pointer[func(sig unix.Signal) bool]
}

// New returns a Session with a fresh Lua state.
func New(opts Options) *Session {
	s := &Session{L: lua.NewState(), stdout: opts.Stdout, stderr: opts.Stderr, version: opts.Version, sigs: make(chan os.Signal, 4)}
	s.rt = luabind.Open(s.L, luabind.Options{
		Stdout:   opts.Stdout,
		Stderr:   opts.Stderr,
		OnSignal: func(sig unix.Signal) { signal.Notify(s.sigs, sig) },
	})
	return s
}

// Close prints what the wire view still holds, closes every socket and the Lua state.
func (s *Session) Close() {
	s.rt.Shutdown()
	s.L.Close()
}

// Trace turns on the strace-format call trace on stderr.
func (s *Session) Trace() { s.rt.StartTrace(s.stderr) }

// Wire turns on the call trace and the wire view on stderr; without CAP_NET_RAW it says so in
// one line and traces the calls alone.
func (s *Session) Wire() { s.rt.StartWire(s.stderr) }

// CatchSignals starts delivering SIGINT: to the console's running chunk, else to the script's
// handler when it has one, else it ends the script with "interrupted" and exit status 130, as a C
// program killed by Ctrl-C gives.
func (s *Session) CatchSignals() (stop func()) {
	signal.Notify(s.sigs, unix.SIGINT)
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
		signal.Stop(s.sigs)
		close(done)
	}
}

// deliver gives sig to whoever sees it first: the console, a Lua handler, else the end of the
// process.
func (s *Session) deliver(sig unix.Signal) {
	if interrupt := s.interrupt.Load(); interrupt != nil && (*interrupt)(sig) {
		return
	}
	if s.rt.Signal(sig) {
		return
	}
	// Exit from here, without closing the sockets first: closing them would wake the script's
	// blocked call, which could end the script with status 0 before this exit. The kernel closes
	// them with the process.
	s.rt.FlushWire()
	if sig == unix.SIGINT {
		io.WriteString(s.stderr, "interrupted\n")
	} else {
		fmt.Fprintf(s.stderr, "terminated by %s\n", unix.SignalName(sig))
	}
	os.Exit(128 + int(sig))
}
