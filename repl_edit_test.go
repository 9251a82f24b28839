package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The line editor in a real terminal: pastes, history, completion.

// An 8 KB line pasted is answered within a second on a quiet machine, and in time linear in its
// length: bounded against a 1 KB paste and a one-line chunk typed in the same run, so that the
// bound holds on a loaded machine and under -race. A line editor that redraws the whole line
// after each character makes the 8 KB paste 64 times the 1 KB one (it took minutes).
func TestConsolePasteLongLine(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	start := time.Now()
	term.enter("print(#'0123456789')", "\n10\n")
	reference := time.Since(start)

	paste := func(kb int) time.Duration {
		line := "print(#'" + strings.Repeat("0123456789abcdef", 64*kb) + "')\r"
		term.mark()
		start := time.Now()
		go term.pty.WriteString(line) // a write blocks while udplab has not read what came before
		term.promptAfter(fmt.Sprintf("\n%d\n", 1024*kb), screenWait)
		return time.Since(start)
	}
	one := paste(1)
	eight := paste(8)
	t.Logf("8 KB pasted: %v; 1 KB: %v; one line typed: %v", eight, one, reference)
	floor := time.Second
	if raceEnabled {
		floor *= 3 // udplab itself is built with -race: each byte of the paste costs more
	}
	if bound := max(floor, 16*one) + 10*reference; eight > bound {
		t.Errorf("an 8 KB paste took %v to be answered (bound %v: %v or 16 x the 1 KB paste's %v, whichever is more, + 10 x a one-line chunk's %v)",
			eight, bound, floor, one, reference)
	}
}

// A paste goes where the cursor is, keeps its tabs (no completion inside it), and its lines run
// one after the other; in Ctrl-R's search it is the text searched for.
func TestConsolePasteInPlace(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.mark()
	term.typeKeys(`print("")`)
	term.waitFor(`print("")`, screenWait)
	term.typeKeys("\x1b[D\x1b[D") // the cursor between the quotes
	term.typeKeys("pasted\tin the middle of a line")
	term.typeKeys("\r")
	term.promptAfter("\npasted\tin the middle of a line\n", screenWait)

	term.mark()
	term.typeKeys("first_value = 1000\rsecond_value = 2000\rprint(first_value + second_value)\r")
	term.promptAfter("\n3000\n", screenWait)

	// pasted into Ctrl-R's search, it is what is searched for
	term.enter(`print("a line to find " .. "again")`, "\na line to find again\n")
	term.enter(`print(4)`, "\n4\n")
	term.mark()
	term.typeKeys("\x12")
	term.typeKeys(`"a line to find " ..`)
	term.waitFor(`print("a line to find " .. "again")`, screenWait)
	term.typeKeys("\r")
	term.promptAfter("\na line to find again\n", screenWait)
}

// The history holds everything typed, payloads included: a new file is created readable by its
// owner only, and one readable by others is tightened, in $XDG_STATE_HOME and in ~.
func TestConsoleHistoryPrivate(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	xdg := filepath.Join(state, "state", "udplab", "history")
	if err := os.MkdirAll(filepath.Dir(xdg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(xdg, []byte("print('old')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term := startTerminal(t, state)
	term.enter("secret = 'payload'", "\n")
	checkMode(t, xdg, 0o600)

	home := t.TempDir()
	cmd := exec.Command("udplab")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_STATE_HOME=", "TERM=xterm")
	term = startTerminalCmd(t, cmd)
	term.enter("secret = 'payload'", "\n")
	checkMode(t, filepath.Join(home, ".udplab_history"), 0o600)
}

// checkMode fails the test unless path has the permissions want.
func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s has mode %#o, want %#o", path, got, want)
	}
}

// Tab completes a lab host's methods after "net.a:", a network's hosts and methods after "net.",
// and inside run(" and bg(" the shipped scripts' names.
func TestConsoleCompleteLabAndScripts(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.mark()
	term.typeKeys(`bg("udpconnects` + "\t")
	term.waitFor(`bg("udpconnectserver`, screenWait)
	term.typeKeys("\x15")
	term.mark()
	term.typeKeys(`run("lan/unr` + "\t")
	term.waitFor(`run("lan/unreachable`, screenWait)
	term.typeKeys("\x15")
	term.enter(`print("cleared")`, "\ncleared\n")

	term.enter(`net, why = network{"a", "b"}; print(net and "up" or why)`, "\n")
	if strings.Contains(term.screen(), "user namespaces") {
		t.Skip(term.screen())
	}
	term.mark()
	term.typeKeys("net.a:so\t")
	term.waitFor("net.a:socket", screenWait)
	term.typeKeys("(AF_INET, SOCK_DGRAM)\r")
	term.promptAfter("in a)", screenWait)
	term.mark()
	term.typeKeys("net.a:\t")
	term.waitForLine("down exec firewall impair nat socket spawn up")
	term.typeKeys("\x03")
	term.mark()
	term.typeKeys("net.\t")
	term.waitForLine("a b close")
	term.typeKeys("\x03")
	term.enter(`print("still" .. " here")`, "\nstill here\n")
}

// waitForLine waits until a line of the screen starts with words, whatever the spaces between
// them (the prompt's redraw may follow on the same line once escapes are dropped).
func (term *terminal) waitForLine(words string) {
	term.t.Helper()
	for deadline := time.Now().Add(screenWait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(term.screen(), "\n") {
			if strings.HasPrefix(strings.Join(strings.Fields(line), " ")+" ", words+" ") {
				return
			}
		}
	}
	term.t.Fatalf("no line of the screen holds %q; it shows:\n%s", words, term.screen())
}

// A chunk of several lines with comments, or a long string over its lines, comes back whole on
// one Up, as one line of the same Lua, and stays one entry in the history file.
func TestConsoleHistoryChunkWithComments(t *testing.T) {
	t.Parallel()
	state := t.TempDir()
	term := startTerminal(t, state)
	term.mark()
	term.typeKeys("for i = 1, 2 do -- count\r")
	term.waitFor("... ", screenWait)
	term.typeKeys("  print(i * 111) -- and show it\rend\r")
	term.promptAfter("\n222\n", screenWait)
	const chunk = "for i = 1, 2 do --[[ count ]] print(i * 111) --[[ and show it ]] end"
	term.mark()
	term.typeKeys("\x1b[A")
	term.waitFor(chunk, screenWait)
	term.typeKeys("\r")
	term.promptAfter("\n111\n222\n", screenWait)

	term.mark()
	term.typeKeys("s = [[first\r")
	term.waitFor("... ", screenWait)
	term.typeKeys("second]]\r")
	term.promptAfter("second]]\n", screenWait)
	term.mark()
	term.typeKeys("\x1b[A")
	term.waitFor(`s = "first\nsecond"`, screenWait)
	term.typeKeys("\x15")
	term.enter(`print(s == "first\nsecond")`, "\ntrue\n")
	term.typeKeys("\x04")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	history, err := os.ReadFile(filepath.Join(state, "state", "udplab", "history"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(history), "\n"+chunk+"\n") && !strings.HasPrefix(string(history), chunk+"\n") {
		t.Errorf("the chunk is not one entry of the history file:\n%s", history)
	}
}
