package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal is udplab running in a real pseudo-terminal, as a person would use it.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// screenWait bounds every wait for the screen: generous, so that it holds on a loaded machine and
// under -race; a working console answers in milliseconds.
const screenWait = 15 * time.Second

// escapes are the line editor's redraw sequences, dropped before matching what the screen says.
var escapes = regexp.MustCompile("\x1b\\[[0-9;?]*[ -/]*[@-~]|[\r\x07\x08]")

// startTerminal starts udplab in an 80x24 pseudo-terminal with HOME and XDG_STATE_HOME in state.
func startTerminal(t *testing.T, state string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command("udplab", args...)
	cmd.Env = append(os.Environ(), "HOME="+state, "XDG_STATE_HOME="+filepath.Join(state, "state"), "TERM=xterm")
	return startTerminalCmd(t, cmd)
}

// startTerminalCmd starts cmd in an 80x24 pseudo-terminal and waits for the prompt.
func startTerminalCmd(t *testing.T, cmd *exec.Cmd) *terminal {
	t.Helper()
	return startTerminalSized(t, cmd, 80)
}

// startTerminalSized starts cmd in a pseudo-terminal of cols columns and 24 rows, and waits for
// the prompt.
func startTerminalSized(t *testing.T, cmd *exec.Cmd, cols uint16) *terminal {
	t.Helper()
	term := startPty(t, cmd, cols)
	term.waitFor("udplab> ", screenWait)
	return term
}

// startPty starts cmd in a pseudo-terminal of cols columns and 24 rows.
func startPty(t *testing.T, cmd *exec.Cmd, cols uint16) *terminal {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, cmd: cmd, pty: f, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
	})
	return term
}

// screen returns what was printed since the last mark, without redraw escapes.
func (term *terminal) screen() string {
	term.mu.Lock()
	raw := term.out.String()
	term.mu.Unlock()
	// stripped without the lock: under -race the expression over a long paste's redraws took
	// long enough to stall the reader of the terminal, and so udplab writing to it, and the test
	// measured its own polling
	return escapes.ReplaceAllString(raw, "")
}

func (term *terminal) mark() {
	term.mu.Lock()
	term.out.Reset()
	term.mu.Unlock()
}

func (term *terminal) typeKeys(s string) {
	if _, err := term.pty.WriteString(s); err != nil {
		term.t.Fatal(err)
	}
}

// waitFor waits until the screen shows needle, failing the test after d.
func (term *terminal) waitFor(needle string, d time.Duration) {
	term.t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(term.screen(), needle) {
			return
		}
	}
	term.t.Fatalf("screen never showed %q; it shows:\n%s", needle, term.screen())
}

// promptAfter waits until the screen shows out followed by a fresh prompt.
func (term *terminal) promptAfter(out string, d time.Duration) {
	term.t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		s := term.screen()
		if i := strings.Index(s, out); i >= 0 && strings.Contains(s[i+len(out):], "udplab> ") {
			return
		}
	}
	term.t.Fatalf("screen never showed %q then a prompt; it shows:\n%s", out, term.screen())
}

// enter types line and Enter at a fresh prompt and waits for out and the prompt after it.
func (term *terminal) enter(line, out string) {
	term.t.Helper()
	term.mark()
	term.typeKeys(line + "\r")
	term.promptAfter(out, screenWait)
}

// waitParked waits until udplab's runtime poller holds fd: a call on it has parked.
func (term *terminal) waitParked(fd int) {
	term.t.Helper()
	want := regexp.MustCompile(`(?m)^tfd:\s+` + strconv.Itoa(fd) + `\s`)
	for deadline := time.Now().Add(screenWait); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		infos, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", term.cmd.Process.Pid))
		for _, path := range infos {
			if b, err := os.ReadFile(path); err == nil && want.Match(b) {
				return
			}
		}
	}
	term.t.Fatalf("fd %d never joined udplab's poller; screen:\n%s", fd, term.screen())
}

// lastNumber returns the last number on the screen.
func lastNumber(t *testing.T, screen string) int {
	t.Helper()
	all := regexp.MustCompile(`\d+`).FindAllString(screen, -1)
	if len(all) == 0 {
		t.Fatalf("no number on the screen:\n%s", screen)
	}
	n, _ := strconv.Atoi(all[len(all)-1])
	return n
}

// exitCode waits for udplab to exit, at most 5 s.
func (term *terminal) exitCode() int {
	term.t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- term.cmd.Wait() }()
	select {
	case err := <-exited:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		return 0
	case <-time.After(screenWait):
		term.t.Fatalf("udplab did not exit; screen:\n%s", term.screen())
		return -1
	}
}

func TestConsole(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	term := startTerminal(t, state)

	term.enter("1+1", "\n2\n")
	term.enter("nil, 'Connection refused', 111", "\nnil\tConnection refused\t111\t-- ECONNREFUSED\n")
	term.enter("=2*3", "\n6\n")

	// a multi-line for loop: continuation prompt, then it runs
	term.mark()
	term.typeKeys("for i = 1, 2 do\r")
	term.waitFor("... ", screenWait)
	term.typeKeys("print(i * 111)\rend\r")
	term.promptAfter("\n222\n", screenWait)

	// values print usefully
	term.enter("s = socket(AF_INET, SOCK_DGRAM); bind(s, '127.0.0.1', 0); print(settimeout(s, 0))", "\n0\n")
	term.enter("s", "SOCK_DGRAM, bound 127.0.0.1:")
	term.enter("{1, 'a', x = 2}", "\n{1, \"a\", x=2}\n")

	// Ctrl-C while recv blocks: back at the prompt quickly, the socket still usable
	// (the bound is relative to a plain line's round trip measured just before, so that it holds
	// on a loaded machine and under -race)
	start := time.Now()
	term.enter("print(fileno(s))", "\n")
	reference := time.Since(start)
	fd := lastNumber(t, term.screen())
	term.mark()
	term.typeKeys("print('wait' .. 'ing'); recv(s, 10)\r")
	term.waitFor("\nwaiting\n", screenWait)
	term.waitParked(fd)
	start = time.Now()
	term.typeKeys("\x03")
	term.promptAfter("interrupted", screenWait)
	if d, bound := time.Since(start), 500*time.Millisecond+10*reference; d > bound {
		t.Errorf("Ctrl-C during recv took %v to give the prompt back (bound %v: 500ms + 10 x a plain line's %v)", d, bound, reference)
	}
	term.enter("sendto(s, 'pi' .. 'ng', getsockname(s)); print(recv(s, 10))", "\nping\n")

	// Ctrl-C in a busy Lua loop
	term.mark()
	term.typeKeys("print('spin' .. 'ning'); while true do end\r")
	term.waitFor("\nspinning\n", screenWait)
	term.typeKeys("\x03")
	term.promptAfter("interrupted", screenWait)

	// Ctrl-C at the prompt clears the line and does not exit
	term.mark()
	term.typeKeys("abc")
	term.waitFor("abc", screenWait)
	term.typeKeys("\x03")
	term.waitFor("^C", screenWait)
	term.enter("print('al' .. 'ive')", "\nalive\n")

	// Tab completion: a constant, a socket method
	term.mark()
	term.typeKeys("SO_BROADC\t")
	term.waitFor("SO_BROADCAST", screenWait)
	term.typeKeys("\r")
	term.promptAfter("\n6\n", screenWait)
	term.mark()
	term.typeKeys("s:getsockn\t")
	term.waitFor("s:getsockname", screenWait)
	term.typeKeys("()\r")
	term.promptAfter("\n127.0.0.1:", screenWait)

	// help
	term.enter("help(send)", "ECONNREFUSED (111)")

	// io.read at the prompt reads through the line editor
	term.mark()
	term.typeKeys("line = io.read(); print('got ' .. line)\r")
	term.typeKeys("typed line\r")
	term.promptAfter("got typed line\n", screenWait)

	// an error: the message, then the prompt; a traceback only past the console's own frames
	term.enter("error('boom')", "stdin:1: boom\n")
	if strings.Contains(term.screen(), "traceback") {
		t.Errorf("a traceback of the console line alone:\n%s", term.screen())
	}
	term.enter("function f() error('deep') end", "end\n")
	term.enter("f()", "stdin:1: deep\nstack traceback:")

	// Ctrl-D exits 0 and the history is written
	term.enter("marker_for_history = 1", "marker_for_history = 1\n")
	term.typeKeys("\x04")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("Ctrl-D: exit %d, want 0", code)
	}
	if _, err := os.Stat(filepath.Join(state, "state", "udplab", "history")); err != nil {
		t.Fatalf("no history file: %v", err)
	}

	// the history survives a restart
	term = startTerminal(t, state)
	term.mark()
	term.typeKeys("\x1b[A")
	term.waitFor("marker_for_history", screenWait)
	term.typeKeys("\x15\x04")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("second Ctrl-D: exit %d", code)
	}
}

// udplab -i FILE runs the file, then opens the console with its globals.
func TestConsoleAfterScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "setup.lua")
	if err := os.WriteFile(script, []byte("greeting = 'hello from the script'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term := startTerminal(t, dir, "-i", script)
	term.enter("greeting", "\n\"hello from the script\"\n")
	term.typeKeys("\x04")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// With stdin not a terminal, no prompt is printed and each chunk runs as read.
func TestConsolePiped(t *testing.T) {
	t.Parallel()
	udplab(t, "print(1+1)\nx = 3\nx * 2\n", []string{}...).check(t, "2\n6\n", "", 0)
	r := udplab(t, "error('boom')\nprint(5)\n")
	if r.stdout != "5\n" || r.code != 1 || !strings.Contains(r.stderr, "boom") {
		t.Fatalf("piped error: %+v", r)
	}
}

// raw returns what was printed since the last mark, escapes included.
func (term *terminal) raw() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// The console teaches: values as Lua reads them back, errno names, colour, errors that name the
// culprit, help for constants, io.read's prompt kept and its input out of the history, a
// multi-line chunk as one history entry, exit.
func TestConsoleTeaches(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	term := startTerminal(t, dir)
	term.enter(`"\0\1\2\27[31mRED\n", ""`, "\n\"\\0\\1\\2\\27[31mRED\\n\"\t\"\"\n")
	if !strings.Contains(term.raw(), "\x1b[32m\"\\0") {
		t.Errorf("a string value is not coloured in a terminal: %q", term.raw())
	}
	term.enter(`string.rep("x", 5000)`, `..." (5000 bytes)`)
	term.enter(`s = socket(AF_INET, SOCK_DGRAM); connect(s, "127.0.0.1:9")`, "\n")
	term.enter(`send(s, "g1")`, "\n2\n")
	term.enter(`recv(s, 100)`, "\nnil\tConnection refused\t111\t-- ECONNREFUSED\n")
	term.enter(`getsockname(s) == getsockname(s)`, "\ntrue\n")
	term.enter(`getsockname(s).family`, "\n2\t-- AF_INET\n")
	term.enter(`sokcet(AF_INET, SOCK_DGRAM)`, "attempt to call a nil value (global 'sokcet'); did you mean socket?\n")
	if strings.Contains(term.screen(), "traceback") {
		t.Errorf("a traceback of the console's own frames:\n%s", term.screen())
	}
	term.enter(`help(SO_BROADCAST)`, "socket option at level SOL_SOCKET")
	term.enter(`trace(true)`, "trace(true)\n")
	if strings.Contains(term.screen(), "false") {
		t.Errorf("trace(true) printed a value:\n%s", term.screen())
	}
	term.enter(`trace(false)`, "trace(false)\n")

	term.mark()
	term.typeKeys(`io.write("name? "); x = io.read()` + "\r")
	term.waitFor("name? ", screenWait)
	term.typeKeys("bob\r")
	term.promptAfter("name? bob", screenWait)
	term.enter(`x`, "\n\"bob\"\n")

	term.mark()
	term.typeKeys("for i = 1, 2 do\rprint(i * 111)\rend\r")
	term.promptAfter("222\n", screenWait)
	term.mark()
	term.typeKeys("\x1b[A")
	term.waitFor("for i = 1, 2 do print(i * 111) end", screenWait)
	term.typeKeys("\x15") // clear the recalled line
	term.typeKeys("exit\r")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("exit: status %d", code)
	}
	history, _ := os.ReadFile(filepath.Join(dir, "state", "udplab", "history"))
	if strings.Contains(string(history), "bob") || !strings.Contains(string(history), "for i = 1, 2 do print(i * 111) end\n") {
		t.Errorf("history holds what io.read read, or not the chunk as one entry:\n%s", history)
	}
}

// NO_COLOR turns colour off.
func TestConsoleNoColor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command("udplab")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_STATE_HOME="+dir, "TERM=xterm", "NO_COLOR=1")
	term := startTerminalCmd(t, cmd)
	term.enter(`"text", 42, nil, error`, "\n\"text\"\t42\tnil\tfunction")
	if raw := term.raw(); strings.Contains(raw, "\x1b[32m") || strings.Contains(raw, "\x1b[36m") {
		t.Errorf("colour with NO_COLOR set: %q", raw)
	}
}

// help wraps at word boundaries to the terminal's width: at 40 columns no word is cut.
func TestConsoleHelpWraps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command("udplab")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_STATE_HOME="+dir, "TERM=xterm")
	term := startTerminalSized(t, cmd, 40)
	term.enter("help()", "settimeout")
	for _, line := range strings.Split(term.screen(), "\n") {
		if len(line) > 40 && len(strings.Fields(line)) > 1 && !strings.Contains(line, "help()") {
			t.Errorf("help() line of %d columns at 40: %q", len(line), line)
		}
	}
	if !strings.Contains(term.screen(), "timeout") {
		t.Errorf("a word was cut:\n%s", term.screen())
	}
}

// -i stays in the console when the script fails, with what it made before.
func TestConsoleAfterFailedScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "half.lua")
	if err := os.WriteFile(script, []byte("x = 42\nerror('half way')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term := startTerminal(t, dir, "-i", script)
	if !strings.Contains(term.screen(), "half way") {
		t.Errorf("the script's error was not shown:\n%s", term.screen())
	}
	term.enter("x", "\n42\n")
}

// Tab on an empty line says how many names there are before listing them all, as bash asks.
func TestConsoleTabAsksFirst(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.mark()
	term.typeKeys("\t")
	term.waitFor("possibilities: press Tab again to list them", screenWait)
	if strings.Contains(term.screen(), "xpcall") {
		t.Errorf("the names were listed at once:\n%s", term.screen())
	}
	term.typeKeys("\t")
	term.waitFor("xpcall", screenWait)
}

// Ctrl-D with a socket open ends the console with one ^D shown.
func TestConsoleCtrlDWithSocket(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter(`s = socket(AF_INET, SOCK_DGRAM)`, "\n")
	term.mark()
	term.typeKeys("\x04")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	<-term.done
	if n := strings.Count(term.screen(), "^D"); n != 1 {
		t.Errorf("^D shown %d times:\n%q", n, term.screen())
	}
}

// Ctrl-\ at the prompt (the byte 28, the terminal being raw there) does nothing: it is not
// put into the line, which would then fail with "unexpected symbol near '\28'".
func TestConsoleCtrlBackslashAtPrompt(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.mark()
	term.typeKeys("print(4\x1c")
	term.typeKeys("2)\r")
	term.promptAfter("\n42\n", screenWait)
	if screen := term.screen(); strings.Contains(screen, `\28`) || strings.Contains(screen, "\x1c") || !strings.Contains(screen, "print(42)") {
		t.Errorf("Ctrl-\\ reached the line:\n%q", term.screen())
	}
}

// Ctrl-C while the list of completions is open clears the line, as Ctrl-C does at the prompt.
func TestConsoleCtrlCInCompletion(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.mark()
	term.typeKeys("SO_B\t")
	term.waitFor("SO_BROADCAST", screenWait)
	term.typeKeys("\x03")
	term.waitFor("^C", screenWait)
	term.enter("print(7)", "\n7\n")
}
