package console

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/chzyer/readline"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/luabind"
)

// Step mode as the terminal shows it (luabind runs it): before each socket call, one line
//
//	next: recv(client, 100)   [Enter] run  [c] continue to the next section  [q] quit
//
// waits for one key, then is erased, so that what the run prints reads as it does without step
// mode. At the console the line editor reads the key (it owns the terminal); a script run from
// the command line reads it from the terminal itself, in non-canonical mode. With standard input
// not a terminal the run steps through without pausing, each step's line on stderr. Ctrl-C at a
// pause does what it does anywhere else; q ends the console's line (a script: udplab, with
// status 0).

// errStepQuit is the error of a console line ended by q at a pause.
var errStepQuit = errors.New("quit")

// stepHints are the keys a pause takes, said in full, shorter, or shortest, as the terminal's
// width allows.
var stepHints = []string{"   [Enter] run  [c] continue to the next section  [q] quit", "   [Enter] run  [c] next section  [q] quit", "   [Enter/c/q]", ""}

// Step turns step mode on or off (udplab --step).
func (s *Session) Step(on bool) { s.rt.Step(on) }

// stepPause is luabind's Stepper: it shows next and reads the answer.
func (s *Session) stepPause(L *lua.LState, next string) (luabind.StepAnswer, error) {
	if rl := s.editor.Load(); rl != nil {
		return s.stepAtConsole(rl, next)
	}
	if !readline.IsTerminal(0) {
		fmt.Fprintln(s.stderr, "next: "+next)
		return luabind.StepRun, nil
	}
	return s.stepAtTerminal(next)
}

// stepLine is the pause's line for next, shorter than width-2 columns when the hints can be cut:
// the line editor writes two more after its prompt, and a line that reached the terminal's last
// column would wrap, and not be erased whole.
func stepLine(next string, width int) string {
	line := "next: " + next
	for _, hint := range stepHints {
		if len([]rune(line+hint)) < width-2 || hint == "" {
			return line + hint
		}
	}
	return line
}

// stepAtConsole pauses at the console: the line editor shows the line as its prompt and takes
// one key, which its filter turns into Enter (see newLineEditor).
func (s *Session) stepAtConsole(rl *readline.Instance, next string) (luabind.StepAnswer, error) {
	if s.luaOut.take() != "" {
		io.WriteString(s.stdout, "\n") // what the chunk left on its line stays there
	}
	width := readline.GetScreenWidth()
	if width <= 0 {
		width = 80
	}
	s.stepKey.Store(0)
	s.stepPrompt.Store(true)
	rl.SetPrompt(stepLine(next, width) + " ")
	_, err := rl.Readline()
	s.stepPrompt.Store(false)
	switch {
	case errors.Is(err, readline.ErrInterrupt):
		s.chunk.cancel(errInterrupted)
		return luabind.StepRun, errInterrupted
	case err != nil: // Ctrl-D
		s.chunk.cancel(errStepQuit)
		return luabind.StepRun, errStepQuit
	}
	io.WriteString(s.stdout, "\x1b[1A\r\x1b[K") // the line the Enter ended
	switch s.stepKey.Load() {
	case 'c', 'C':
		return luabind.StepSection, nil
	case 'q', 'Q':
		s.chunk.cancel(errStepQuit)
		return luabind.StepRun, errStepQuit
	}
	return luabind.StepRun, nil
}

// stepKeyFilter is the line editor's filter while a pause's line is shown: Enter, Space, c and q
// end it (as Enter), Ctrl-C and Ctrl-D keep their meaning, any other key does nothing. It reports
// whether it took r.
func (s *Session) stepKeyFilter(r rune) (rune, bool, bool) {
	if !s.stepPrompt.Load() {
		return r, true, false
	}
	switch r {
	case readline.CharEnter, readline.CharCtrlJ, ' ', 'c', 'C', 'q', 'Q':
		s.stepKey.Store(r)
		return readline.CharEnter, true, true
	case readline.CharInterrupt, readline.CharDelete:
		return r, true, true
	}
	return r, false, true
}

// stepAtTerminal pauses a script run from the command line: the terminal, in non-canonical mode
// without echo, gives one key, its reads waiting a tenth of a second at most (VTIME) so that a
// Ctrl-C is seen between them. Ctrl-C still makes SIGINT: it reaches the script's handler (the
// call then runs, and the handler after it), else ends udplab as it would without step mode.
func (s *Session) stepAtTerminal(next string) (luabind.StepAnswer, error) {
	width := 80
	if ws, err := unix.IoctlGetWinsize(2, unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
		width = int(ws.Col)
	}
	io.WriteString(s.stderr, stepLine(next, width))
	erase := func() { io.WriteString(s.stderr, "\r\x1b[K") }
	old, err := unix.IoctlGetTermios(0, unix.TCGETS)
	if err != nil {
		io.WriteString(s.stderr, "\n")
		return luabind.StepRun, nil
	}
	raw := *old
	raw.Lflag &^= unix.ICANON | unix.ECHO
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 0, 1
	restore := func() { unix.IoctlSetTermios(0, unix.TCSETS, old) }
	s.restoreOnExit.Do(func() {
		s.onExit(func() {
			if r := s.termRestore.Load(); r != nil {
				(*r)()
			}
		})
	})
	s.termRestore.Store(&restore)
	unix.IoctlSetTermios(0, unix.TCSETS, &raw)
	defer func() {
		restore()
		s.termRestore.Store(nil)
	}()

	// Ctrl-C comes as SIGINT: the signal goroutine hands it here first.
	var interrupted atomic.Bool
	interrupt := func(sig unix.Signal) bool {
		if sig != unix.SIGINT {
			return false
		}
		interrupted.Store(true)
		return true
	}
	prev := s.interrupt.Swap(&interrupt)
	defer s.interrupt.Store(prev)

	var key [1]byte
	for empty := 0; ; {
		if interrupted.Load() {
			erase()
			if s.rt.Signal(unix.SIGINT) {
				return luabind.StepRun, nil // the script's handler runs once the call is under way
			}
			restore()
			s.die(unix.SIGINT)
			return luabind.StepRun, errInterrupted // only when die's exit was a test's
		}
		start := time.Now()
		if n, _ := os.Stdin.Read(key[:]); n == 0 {
			// no key within VTIME; reads that return at once with nothing, again and again, are
			// the end of the terminal (hung up)
			if time.Since(start) < 20*time.Millisecond {
				empty++
			} else {
				empty = 0
			}
			if empty >= 20 {
				erase()
				return luabind.StepRun, luabind.ErrStepQuit
			}
			continue
		}
		empty = 0
		switch key[0] {
		case '\r', '\n', ' ':
			erase()
			return luabind.StepRun, nil
		case 'c', 'C':
			erase()
			return luabind.StepSection, nil
		case 'q', 'Q', 4: // q, Ctrl-D
			erase()
			return luabind.StepRun, luabind.ErrStepQuit
		}
	}
}
