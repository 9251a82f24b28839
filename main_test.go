package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/udplab/udplab/lab"
)

// TestMain makes the test binary answer as "udplab" on $PATH, for the testscript files and for
// the tests that run scripts as a user would.
func TestMain(m *testing.M) {
	lab.RunHelperIfAsked()
	testscript.Main(m, map[string]func(){
		"udplab": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestCLI runs the command-line cases in testdata/script.
func TestCLI(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/script"})
}

// result is what one run of udplab gave.
type result struct {
	stdout, stderr string
	code           int
}

// runBound bounds every run of udplab in these tests: far above what a run takes (a script
// finishes in well under 5 s on an idle machine), so that it holds on a loaded machine and under
// -race, yet a hung run still fails.
const runBound = 60 * time.Second

// tail quotes the end of a run's output, at most 4 kB of it: enough to see where a run stood, where
// a run that printed for a minute would fill the log with megabytes.
func tail(s string) string {
	const keep = 4096
	if len(s) <= keep {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("(%d bytes, the last %d) %q", len(s), keep, s[len(s)-keep:])
}

// udplab runs udplab with args and stdin, bounded by runBound.
func udplab(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runUdplab(t, nil, stdin, args...)
}

// udplabEnv runs udplab with args, its environment extended by env, and no input.
func udplabEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runUdplab(t, env, "", args...)
}

// runUdplab runs udplab with args, stdin and env added to its environment, bounded by runBound.
func runUdplab(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "udplab", args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("udplab %v did not finish within %v; stdout %s stderr %s", args, runBound, tail(out.String()), tail(errb.String()))
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func (r result) check(t *testing.T, stdout, stderr string, code int) {
	t.Helper()
	if r.stdout != stdout || r.stderr != stderr || r.code != code {
		t.Errorf("got stdout %q stderr %q exit %d\nwant stdout %q stderr %q exit %d", r.stdout, r.stderr, r.code, stdout, stderr, code)
	}
}

// freePort returns a UDP port on 127.0.0.1 that nothing is bound to (bound, then released).
func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// waitBound waits, at most runBound, until something is bound to UDP port.
func waitBound(t *testing.T, port int) {
	t.Helper()
	hex := fmt.Sprintf(":%04X ", port)
	for deadline := time.Now().Add(runBound); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, _ := os.ReadFile("/proc/net/udp")
		if bytes.Contains(b, []byte(hex)) {
			return
		}
	}
	t.Fatalf("nothing bound UDP port %d within %v", port, runBound)
}

func TestRefused(t *testing.T) {
	t.Parallel()
	port := fmt.Sprint(freePort(t))
	udplab(t, "g1\n", "scripts/refused.lua", "127.0.0.1", port).check(t,
		"now sending g1\nsend bytes: 2 \n", "recvfrom failed: Connection refused (111)\n", 1)
	// A line ends at "\n" only, as fgets reads it: the "\r" of "g1\r\n" is sent, 3 bytes.
	udplab(t, "g1\r\n", "scripts/refused.lua", "127.0.0.1", port).check(t,
		"now sending g1\r\nsend bytes: 3 \n", "recvfrom failed: Connection refused (111)\n", 1)
}

func TestRefusedUsage(t *testing.T) {
	t.Parallel()
	const usage = "usage: udpconnectclient [IPaddress] [port]" // no newline: the course's error() writes none
	udplab(t, "", "scripts/refused.lua", "127.0.0.1", "1", "extra").check(t, "", usage, 1)
	udplab(t, "", "scripts/refused.lua", "127.0.0.1", "65536").check(t, "", usage, 1)
	udplab(t, "", "scripts/refused.lua", "127.0.0.1", "http").check(t, "", usage, 1)
}

func TestPinned(t *testing.T) {
	t.Parallel()
	r := udplab(t, "", "scripts/pinned.lua")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("pinned.lua: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{
		"\nreceived 2 bytes: g1\nsend bytes: 6 \n\n",
		"\ng1\nnow sending g1\nsend bytes: 2 \nHi, g1\n\n",
		"\ng2\nnow sending g2\nsend bytes: 2 \nrecv failed: Connection refused (111)\n\n",
		"\nverdict: ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("pinned.lua output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// startServer starts scripts/udpconnectserver.lua on a free port, bounded by runBound.
func startServer(t *testing.T) (*exec.Cmd, *bytes.Buffer, string) {
	t.Helper()
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	t.Cleanup(cancel)
	srv := exec.CommandContext(ctx, "udplab", "scripts/udpconnectserver.lua", fmt.Sprint(port))
	var out bytes.Buffer
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitBound(t, port)
	return srv, &out, fmt.Sprint(port)
}

// The lesson's run: the pinned server answers client 1, refuses client 2, and prints its count
// on Ctrl-C.
func TestServerAndClients(t *testing.T) {
	t.Parallel()
	srv, out, port := startServer(t)
	udplab(t, "g1\na longer message\nab\n", "scripts/udpconnectclient2.lua", "127.0.0.1", port).check(t,
		"now sending g1\nsend bytes: 2 \nHi, g1\n"+
			"now sending a longer message\nsend bytes: 16 \nHi, a longer message\n"+
			"now sending ab\nsend bytes: 2 \nHi, ab\n", "", 0)
	udplab(t, "g2\n", "scripts/udpconnectclient2.lua", "127.0.0.1", port).check(t,
		"now sending g2\nsend bytes: 2 \n", "recv failed: Connection refused (111)\n", 1)
	srv.Process.Signal(syscall.SIGINT)
	err := srv.Wait()
	if err != nil {
		t.Fatalf("server after SIGINT: %v; output %q", err, out.String())
	}
	want := "received 2 bytes: g1\nsend bytes: 6 \nsend bytes: 20 \nsend bytes: 6 \n\nreceived 3 datagrams\n"
	if out.String() != want {
		t.Errorf("server printed %q, want %q", out.String(), want)
	}
}

func TestServerGoodbye(t *testing.T) {
	t.Parallel()
	srv, out, port := startServer(t)
	// The server does not answer goodbye: the client sends it and stops, without waiting.
	udplab(t, "", "-e", `s = socket(AF_INET, SOCK_DGRAM); connect(s, "127.0.0.1", `+port+`)
		settimeout(s, 2); send(s, "g1"); assert(recv(s, 100) == "Hi, g1"); send(s, "goodbye")`).check(t, "", "", 0)
	if err := srv.Wait(); err != nil {
		t.Fatalf("server after goodbye: %v; output %q", err, out.String())
	}
	if want := "received 2 bytes: g1\nsend bytes: 6 \n"; out.String() != want {
		t.Errorf("server printed %q, want %q", out.String(), want)
	}
}

// Without a handler, Ctrl-C ends a script with "interrupted" and status 130.
func TestInterruptWithoutHandler(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "udplab", "-e", `s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); print("ready"); recv(s, 10)`)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	stdout.Read(buf)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || errb.String() != "interrupted\n" {
		t.Fatalf("after SIGINT: %v, stderr %q; want exit 130 and \"interrupted\"", err, errb.String())
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Opening sockets until the descriptor limit gives luaposix's failure triple with EMFILE, and
// closing them recovers.
func TestTooManyOpenFiles(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", `ulimit -n 64 && exec udplab -e '
		local t, s, msg, errno = {}
		repeat
			s, msg, errno = socket(AF_INET, SOCK_DGRAM)
			t[#t + 1] = s
		until not s
		print(msg, errno, #t > 20)
		for _, s in ipairs(t) do close(s) end
		print(socket(AF_INET, SOCK_DGRAM) ~= nil, #sockets())'`)
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "Too many open files\t24\ttrue\ntrue\t1\n" {
		t.Fatalf("got %q (%v)", out, err)
	}
}

// The shipped scripts run from any directory (they are in the binary): by path as in the
// repository, or by name; --list lists them; a file on disk of that name wins.
func TestShippedScriptsFromAnywhere(t *testing.T) {
	t.Parallel()
	run := func(dir string, args ...string) result {
		ctx, cancel := context.WithTimeout(context.Background(), runBound)
		defer cancel()
		cmd := exec.CommandContext(ctx, "udplab", args...)
		cmd.Dir = dir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{stdout: out.String(), stderr: errb.String(), code: code}
	}
	for _, name := range []string{"scripts/truncation.lua", "truncation"} {
		if r := run("/", name); r.code != 0 || !strings.Contains(r.stdout, "verdict: a datagram longer than the buffer was cut silently") {
			t.Errorf("udplab %s from /: %+v", name, r)
		}
	}
	r := run("/", "--list")
	for _, want := range []string{"refused.lua", "lan/unreachable.lua", "the lesson's first client"} {
		if !strings.Contains(r.stdout, want) || r.code != 0 {
			t.Errorf("--list lacks %q: %+v", want, r)
		}
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "scripts"), 0o755)
	os.WriteFile(filepath.Join(dir, "scripts", "truncation.lua"), []byte(`print("the file on disk")`), 0o644)
	if r := run(dir, "scripts/truncation.lua"); r.stdout != "the file on disk\n" {
		t.Errorf("the file on disk did not win: %+v", r)
	}
	if r := run("/", "nothere"); r.code != 1 || r.stderr != "udplab: cannot open nothere\n" {
		t.Errorf("udplab nothere: %+v", r)
	}
}

// In the console, bg starts a script in the background (its lines prefixed with its name) and
// run runs one to its end, reading the console's input.
func TestConsoleJobs(t *testing.T) {
	t.Parallel()
	port := fmt.Sprint(freePort(t))
	r := udplab(t, `j = bg("udpconnectserver", `+port+`)
c = socket(AF_INET, SOCK_DGRAM); connect(c, "127.0.0.1:`+port+`"); settimeout(c, 5)
send(c, "g1"); print(recv(c, 100))
jobs()
print(stop(j))
print(run("refused", "127.0.0.1", `+port+`))
g2
`)
	for _, want := range []string{
		"Hi, g1\n",
		"(pid ", "udp 127.0.0.1:" + port + " -> 127.0.0.1:",
		"[udpconnectserver] received 2 bytes: g1\n",
		"[udpconnectserver] received 1 datagrams\n",
		"now sending g2\nsend bytes: 2 \n1\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("console with jobs lacks %q:\n%s\n%s", want, r.stdout, r.stderr)
		}
	}
	if r.stderr != "recvfrom failed: Connection refused (111)\n" {
		t.Errorf("stderr %q: want only the refused client's error", r.stderr)
	}
}

// A script that does not compile fails with the compiler's message and status 1, whether it
// is a file on disk or a shipped one.
func TestScriptSyntaxError(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.lua")
	os.WriteFile(path, []byte("print(1\n"), 0o644)
	udplab(t, "", path).check(t, "", "udplab: "+path+":1: ')' expected near <eof>\n", 1)
}
