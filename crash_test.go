package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// goRuntimeText is what Go prints when it dies or dumps: none of it may reach a user.
var goRuntimeText = []string{"goroutine ", "panic:", "fatal error:", "runtime:", "[signal ", "runtime/", ".go:"}

// checkNoGoText fails the test when out holds Go runtime text.
func checkNoGoText(t *testing.T, what, out string) {
	t.Helper()
	for _, text := range goRuntimeText {
		if strings.Contains(out, text) {
			t.Fatalf("%s printed Go runtime text %q:\n%s", what, text, out)
		}
	}
}

// shell runs a sh -c command line (for ulimit), with udplab on PATH, bounded by runBound.
func shell(t *testing.T, stdin, script string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%q did not finish within %v; stdout %s stderr %s", script, runBound, tail(out.String()), tail(errb.String()))
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

// Memory: a block too large is refused with Lua's "not enough memory", which pcall catches; a
// table growing without end ends udplab with the message; piped chunks survive it. Under ulimit
// -v, where a failed allocation kills a Go program, too.
func TestMemoryLimit(t *testing.T) {
	t.Parallel()
	udplab(t, "", "--mem", "64M", "-e", `print(pcall(string.rep, "x", 1e13)) print(pcall(string.format, "%099999d", 1))`).check(t,
		"false\tnot enough memory\nfalse\tinvalid conversion specification: '%099999d'\n", "", 0)
	r := udplab(t, "", "--mem", "64M", "-e", `local t = {} while true do t[#t + 1] = {} end`)
	checkNoGoText(t, "a table growing without end", r.stderr)
	if r.code != 1 || r.stderr != "udplab: not enough memory\n" {
		t.Errorf("a table growing without end: exit %d, stderr %q", r.code, r.stderr)
	}
	r = udplab(t, "t = {} while true do t[#t + 1] = ('x'):rep(64) end\nt = nil\nprint('alive')\n", "--mem", "64M")
	checkNoGoText(t, "piped chunks", r.stderr)
	if r.stdout != "alive\n" || !strings.Contains(r.stderr, "not enough memory") {
		t.Errorf("piped chunks after running out: %+v", r)
	}
	r = shell(t, "", `ulimit -v 4000000 && exec udplab -e '
		print(pcall(string.rep, "x", 2^40))
		local s = ("x"):rep(2^20)
		print(pcall(function() while true do s = s .. s end end))'`)
	checkNoGoText(t, "under ulimit -v", r.stderr)
	if r.stdout != "false\tnot enough memory\nfalse\t<string>:4: not enough memory\n" || r.code != 0 {
		t.Errorf("under ulimit -v: %+v", r)
	}
	udplab(t, "", "--mem", "lots").check(t, "", "udplab: invalid size 'lots' for --mem (try 512M or 2G)\n"+usage, 2)
}

// Nesting: the compiler refuses what PUC Lua refuses, instead of overflowing the Go stack; a
// coroutine resuming itself without end stops at "C stack overflow".
func TestNestingLimits(t *testing.T) {
	t.Parallel()
	r := udplab(t, "", "-e", `
		print(load("return " .. string.rep("not ", 1e6) .. "x", "=deep"))
		print(load("return " .. string.rep("{", 1e6) .. string.rep("}", 1e6), "=deep"))
		local function f() return coroutine.resume(coroutine.create(f)) end
		local results = {f()}
		print(results[#results])`)
	checkNoGoText(t, "deep nesting", r.stderr)
	want := "nil\tdeep:1: chunk has too many syntax levels\nnil\tdeep:1: chunk has too many syntax levels\nC stack overflow\n"
	if r.stdout != want || r.code != 0 {
		t.Errorf("got %+v, want stdout %q", r, want)
	}
}

// Out of descriptors before the first wait: the calls that need one report EMFILE.
func TestOutOfDescriptors(t *testing.T) {
	t.Parallel()
	r := shell(t, "", `ulimit -n 64 && exec udplab -e '
		local t = {} repeat local s = socket(AF_INET, SOCK_DGRAM) t[#t + 1] = s until not s
		local s = t[1]
		print(bind(s, "127.0.0.1", 0), settimeout(s, 0.1), recv(s, 10))
		print(connect(s, "fe80::1%lo", 9))
		print(sendto(s, "x", "localhost", 9))'`)
	checkNoGoText(t, "out of descriptors", r.stderr)
	want := "0\t0\tnil\tResource temporarily unavailable\t11\nnil\tToo many open files\t24\nnil\tToo many open files\t24\n"
	if r.stdout != want || r.code != 0 {
		t.Errorf("got %+v, want stdout %q", r, want)
	}
}

// A __tostring that fails, in a value the console prints, is the chunk's error.
func TestFailingToString(t *testing.T) {
	t.Parallel()
	r := udplab(t, "setmetatable({}, {__tostring = function() error('boom') end})\nprint('next')\n")
	checkNoGoText(t, "a failing __tostring", r.stderr)
	if r.stdout != "next\n" || r.code != 1 || !strings.Contains(r.stderr, "boom") {
		t.Errorf("got %+v", r)
	}
}

// A signal handler that yields, run by a recv blocked in a coroutine: Lua's error, not a crash.
func TestHandlerYieldsAcrossCall(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "udplab", "-e", `
		signal(SIGINT, function() coroutine.yield("from the handler") end)
		local co = coroutine.create(function()
			local s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); settimeout(s, 5)
			print("ready"); io.stdout:flush()
			return recv(s, 10)
		end)
		print(coroutine.resume(co))`)
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "ready\n")
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	checkNoGoText(t, "a yielding handler", errb.String())
	if want := "ready\nfalse\t<string>:2: attempt to yield across a C-call boundary\n"; out.String() != want {
		t.Errorf("stdout %q, want %q; stderr %q", out.String(), want, errb.String())
	}
}

// syncBuffer is a bytes.Buffer a running command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitOutput waits until buf (written by a running command) holds want.
func waitOutput(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(runBound); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if strings.Contains(buf.String(), want) {
			return
		}
	}
	t.Fatalf("never printed %q", want)
}

// SIGQUIT ends udplab as it ends a C program: status 131, no goroutine dump.
func TestQuitIsQuiet(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "udplab", "-e", `s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); print("ready"); io.stdout:flush(); recv(s, 10)`)
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "ready\n")
	cmd.Process.Signal(syscall.SIGQUIT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 131 || errb.String() != "" {
		t.Errorf("after SIGQUIT: %v, stderr %q; want status 131 and nothing said", err, errb.String())
	}
}

// Every way out flushes Lua's buffered files: the end, os.exit, fatal, an error, piped chunks.
func TestBufferedOutputFlushed(t *testing.T) {
	t.Parallel()
	const full = `io.stdout:setvbuf("full") io.write("E") `
	udplab(t, "", "-e", full).check(t, "E", "", 0)
	udplab(t, "", "-e", full+`os.exit(3)`).check(t, "E", "", 3)
	udplab(t, "", "-e", full+`fatal(4, 0, "bye\n")`).check(t, "E", "bye\n", 4)
	udplab(t, "", "-e", full+`error("x")`).check(t, "E", "udplab: <string>:1: x\n", 1)
	udplab(t, full+"\n").check(t, "E", "", 0)
	file := filepath.Join(t.TempDir(), "out.txt")
	udplab(t, "", "-e", `local f = io.open("`+file+`", "w") f:setvbuf("full") f:write("F") os.exit(0)`).check(t, "", "", 0)
	if got := readFile(t, file); got != "F" {
		t.Errorf("file holds %q after os.exit, want F", got)
	}
}

// What a user sees for a directory, a chunk cut short, a missing module.
func TestPlainErrors(t *testing.T) {
	t.Parallel()
	r := udplab(t, "", os.TempDir())
	if !strings.HasSuffix(r.stderr, ": Is a directory\n") || r.code != 1 {
		t.Errorf("a directory: %+v", r)
	}
	udplab(t, "", "-e", "x =").check(t, "", "udplab: <string>:1: unexpected symbol near <eof>\n", 1)
	r = udplab(t, "", "-e", `require("no_such_module")`)
	if !strings.Contains(r.stderr, "no file './no_such_module.lua'") || strings.Contains(r.stderr, "stat ") {
		t.Errorf("a missing module: %+v", r)
	}
}

// The console, in a terminal: completion after any "x:" answers nothing rather than crash; a
// __tostring that loops is interrupted; a coroutine made on one line runs on the next; a
// pattern match that ignores Ctrl-C is escaped by the third, with the terminal restored.
func TestConsoleSurvives(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	for _, line := range []string{"nothing:", "n = 5; n:", "t = {}; t:", "s = 'x'; s:", "x.y.z:"} {
		term.mark()
		term.typeKeys(line + "\t\t\x15") // Tab twice, then clear the line
		term.enter("print('al' .. 'ive')", "\nalive\n")
	}
	term.mark()
	term.typeKeys("setmetatable({}, {__tostring = function() print('loop' .. 'ing') while true do end end})\r")
	term.waitFor("\nlooping\n", screenWait)
	term.typeKeys("\x03")
	term.promptAfter("interrupted", screenWait)
	term.enter("co = coroutine.create(function() coroutine.yield(1) return 2 end)", "\n")
	term.enter("coroutine.resume(co)", "\ntrue\t1\n")
	term.enter("coroutine.resume(co)", "\ntrue\t2\n")
	term.mark()
	term.typeKeys("print('match' .. 'ing'); string.find(string.rep('a', 40), string.rep('a*', 40) .. 'b')\r")
	term.waitFor("\nmatching\n", screenWait)
	// Ctrl-C until udplab ends: on a loaded machine two SIGINTs the kernel has not delivered yet
	// are one (a signal is pending or not), so three keys may count as two
	stopKeys := make(chan struct{})
	keysDone := make(chan struct{})
	go func() {
		defer close(keysDone)
		for i := 0; i < 30; i++ {
			select {
			case <-stopKeys:
				return
			default:
			}
			term.pty.WriteString("\x03") // not typeKeys: no t.Fatal off the test's goroutine
			time.Sleep(100 * time.Millisecond)
		}
	}()
	code := term.exitCode()
	close(stopKeys)
	<-keysDone
	if code != 130 {
		t.Fatalf("Ctrl-C thrice or more: exit %d, want 130; screen:\n%s", code, term.screen())
	}
	// The next program in that terminal finds it as a shell leaves it: echo, lines, signals.
	tio, err := unix.IoctlGetTermios(int(term.pty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if cooked := uint32(unix.ECHO | unix.ICANON | unix.ISIG); tio.Lflag&cooked != cooked {
		t.Errorf("terminal left with lflag %#o: echo, icanon or isig off", tio.Lflag)
	}
}

// A relative XDG_STATE_HOME is ignored, as the XDG spec says: the history goes to ~.
func TestRelativeStateHome(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cmd := exec.Command("udplab")
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_STATE_HOME=relative", "TERM=xterm")
	term := startTerminalCmd(t, cmd)
	term.enter("print(1 + 1)", "\n2\n")
	term.typeKeys("\x04")
	term.exitCode()
	if _, err := os.Stat(filepath.Join(home, "relative")); err == nil {
		t.Error("a relative XDG_STATE_HOME made a folder under the current directory")
	}
	if _, err := os.Stat(filepath.Join(home, ".udplab_history")); err != nil {
		t.Errorf("no history in ~: %v", err)
	}
}

// A script whose SIGINT handler cannot run (the script is stuck in a pattern match) is ended by
// the third Ctrl-C within 2 s, with status 130.
func TestThirdInterruptEndsStuckScript(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "udplab", "-e", `
		signal(SIGINT, function() print("handled") end)
		print("ready"); io.stdout:flush()
		string.find(string.rep("a", 40), string.rep("a*", 40) .. "b")`)
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "ready\n")
	// SIGINT until it ends: two the kernel has not delivered yet are one, so three sent may
	// count as two on a loaded machine
	exited := make(chan struct{})
	go func() {
		for i := 0; i < 30; i++ {
			select {
			case <-exited:
				return
			default:
			}
			cmd.Process.Signal(syscall.SIGINT)
			time.Sleep(100 * time.Millisecond)
		}
	}()
	err := cmd.Wait()
	close(exited)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || errb.String() != "interrupted\n" {
		t.Errorf("three Ctrl-C: %v, stderr %q; want status 130 and \"interrupted\"", err, errb.String())
	}
}
