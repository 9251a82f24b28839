package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// stepTerminal starts udplab with args in an 80x24 pseudo-terminal, without waiting for a prompt.
func stepTerminal(t *testing.T, args ...string) *terminal {
	t.Helper()
	state := t.TempDir()
	cmd := exec.Command("udplab", args...)
	cmd.Env = append(os.Environ(), "HOME="+state, "XDG_STATE_HOME="+filepath.Join(state, "state"), "TERM=xterm")
	return startPty(t, cmd, 80)
}

// sockets counts udplab's open sockets.
func (term *terminal) sockets() int {
	n := 0
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", term.cmd.Process.Pid))
	for _, fd := range fds {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", term.cmd.Process.Pid, fd.Name())); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// canonical says the terminal is back in canonical mode with echo (as a pause found it).
func (term *terminal) canonical() bool {
	tio, err := unix.IoctlGetTermios(int(term.pty.Fd()), unix.TCGETS)
	return err == nil && tio.Lflag&unix.ICANON != 0 && tio.Lflag&unix.ECHO != 0
}

// udplab --step FILE pauses before each socket call, showing it as the script wrote it: the
// socket is not there until Enter; the script reads its line from the same terminal between
// pauses; [c] runs on to the next section (refused.lua has none: to its end).
func TestStepScript(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	term := stepTerminal(t, "--step", "scripts/refused.lua", "127.0.0.1", fmt.Sprint(port))
	term.waitFor("next: socket(AF_INET, SOCK_DGRAM, 0)", screenWait)
	if n := term.sockets(); n != 0 {
		t.Errorf("%d sockets open while paused before socket()", n)
	}
	term.typeKeys("\r")
	term.waitFor(fmt.Sprintf("next: connect(s, 127.0.0.1:%d)", port), screenWait)
	if n := term.sockets(); n != 1 {
		t.Errorf("%d sockets open after Enter ran socket()", n)
	}
	term.mark()
	term.typeKeys("x") // not an answer: nothing happens (were it one, the Enter below would be an empty line for io.lines)
	term.typeKeys("\r")
	term.typeKeys("g1\r") // the script's own input, read by io.lines between pauses
	term.waitFor(fmt.Sprintf(`next: sendto(s, "g1", 127.0.0.1:%d)`, port), screenWait)
	if n := strings.Count(term.screen(), "now sending"); n != 1 {
		t.Errorf("x answered the pause (%d lines sent):\n%s", n, term.screen())
	}
	term.typeKeys("c")
	term.waitFor("recvfrom failed: Connection refused (111)", screenWait)
	if strings.Contains(term.screen(), "next: recvfrom") {
		t.Errorf("[c] paused before recvfrom: %q", term.screen())
	}
	if code := term.exitCode(); code != 1 {
		t.Errorf("exit status %d, want refused.lua's 1", code)
	}
}

// q at a pause ends udplab with status 0, Ctrl-C with 130 and "interrupted", as without step
// mode; either way the terminal is left as it was, and no Go text is printed.
func TestStepQuit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key  string
		code int
		says string
	}{{"q", 0, ""}, {"\x03", 130, "interrupted"}} {
		term := stepTerminal(t, "--step", "-e", `s = socket(AF_INET, SOCK_DGRAM); print("after socket")`)
		term.waitFor("next: socket(AF_INET, SOCK_DGRAM)", screenWait)
		term.typeKeys(tc.key)
		if code := term.exitCode(); code != tc.code {
			t.Errorf("%q at a pause: exit status %d, want %d; screen:\n%s", tc.key, code, tc.code, term.screen())
		}
		<-term.done
		screen := term.screen()
		if strings.Contains(screen, "after socket") || !strings.Contains(screen, tc.says) {
			t.Errorf("%q at a pause: the screen shows:\n%s", tc.key, screen)
		}
		checkNoGoText(t, fmt.Sprintf("%q at a pause", tc.key), screen)
	}
}

// The terminal is restored after a pause: checked on a run that is still going (the pty's modes
// are lost once udplab exits), while its script waits in a blocking receive.
func TestStepRestoresTerminal(t *testing.T) {
	t.Parallel()
	term := stepTerminal(t, "--step", "-e", `s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); io.read()`)
	term.waitFor("next: socket", screenWait)
	if term.canonical() {
		t.Error("the terminal is in canonical mode at a pause: a key would wait for Enter")
	}
	term.typeKeys(" ")
	term.waitFor("next: bind(s, \"127.0.0.1\", 0)", screenWait)
	term.typeKeys("\r")
	term.waitParkedOrReading()
	if !term.canonical() {
		t.Error("the terminal stays in non-canonical mode after the pauses")
	}
}

// waitParkedOrReading waits until the script's io.read has the terminal: canonical mode is back.
func (term *terminal) waitParkedOrReading() {
	term.t.Helper()
	for i := 0; i < 500 && !term.canonical(); i++ {
		unix.Nanosleep(&unix.Timespec{Nsec: 10e6}, nil)
	}
}

// step(true) at the console: each socket call of a line pauses, the line editor reading the key;
// q ends the line ("quit") and the console goes on; run() steps through its script, and [c] runs
// on to the next section, where the pauses begin again.
func TestStepAtTheConsole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "two.lua")
	os.WriteFile(script, []byte(`section("one")
local a = socket(AF_INET, SOCK_DGRAM); bind(a, "127.0.0.1", 0)
section("two")
label(a, "server"); close(a); print("two done")`), 0o644)
	term := startTerminal(t, dir)
	term.mark()
	term.typeKeys("step(true)\r")
	term.promptAfter("step(true)", screenWait)
	term.mark()
	term.typeKeys("s = socket(AF_INET, SOCK_DGRAM); t = socket(AF_INET, SOCK_DGRAM)\r")
	term.waitFor("next: socket(AF_INET, SOCK_DGRAM)", screenWait)
	term.mark()
	term.typeKeys("\r")
	term.waitFor("next: socket(AF_INET, SOCK_DGRAM)", screenWait)
	term.typeKeys("q")
	term.promptAfter("quit", screenWait)
	term.enter("print(s ~= nil, t == nil)", "true\ttrue")
	term.mark()
	term.typeKeys("t = socket(AF_INET, SOCK_DGRAM)\r")
	term.waitFor("next: socket(AF_INET, SOCK_DGRAM)", screenWait)
	term.typeKeys("\x03") // Ctrl-C at a pause: the line is interrupted, as anywhere else
	term.promptAfter("interrupted", screenWait)
	term.enter("print(t == nil)", "true")

	term.mark()
	term.typeKeys(fmt.Sprintf("run(%q)\r", script))
	term.waitFor("next: socket(AF_INET, SOCK_DGRAM)", screenWait)
	term.mark()
	term.typeKeys("c")
	term.waitFor("next: close(server)", screenWait)
	if strings.Contains(term.screen(), "next: bind") {
		t.Errorf("[c] paused before the bind of section one:\n%s", term.screen())
	}
	term.typeKeys("\r")
	term.promptAfter("two done", screenWait)
	term.enter("step(false) print(step())", "false")
}

// q at a pause of a script that run() runs, from the command line, ends udplab, not only that
// script.
func TestStepQuitInRun(t *testing.T) {
	t.Parallel()
	script := filepath.Join(t.TempDir(), "one.lua")
	os.WriteFile(script, []byte(`local s = socket(AF_INET, SOCK_DGRAM)`), 0o644)
	term := stepTerminal(t, "--step", "-e", fmt.Sprintf(`run(%q) print("after run")`, script))
	term.waitFor("next: socket(AF_INET, SOCK_DGRAM)", screenWait)
	term.typeKeys("q")
	if code := term.exitCode(); code != 0 {
		t.Errorf("exit status %d", code)
	}
	<-term.done
	if strings.Contains(term.screen(), "after run") {
		t.Errorf("the chunk went on after q:\n%s", term.screen())
	}
}

// With standard input not a terminal, --step steps through without pausing: each step's line on
// stderr, the run as it is without step mode.
func TestStepPiped(t *testing.T) {
	t.Parallel()
	port := fmt.Sprint(freePort(t))
	r := udplab(t, "g1\n", "--step", "scripts/refused.lua", "127.0.0.1", port)
	want := "next: socket(AF_INET, SOCK_DGRAM, 0)\nnext: connect(s, 127.0.0.1:" + port + ")\nnext: sendto(s, \"g1\", 127.0.0.1:" + port +
		")\nnext: recvfrom(s, 4096)\nrecvfrom failed: Connection refused (111)\n"
	r.check(t, "now sending g1\nsend bytes: 2 \n", want, 1)
}
