package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/udplab/udplab/scripts"
)

// What the console shows: the trace, help, values and errors, in a real terminal.

// trace(true) at the console prints the calls, although the console records them for diagram()
// from its start; trace() says whether they are printed.
func TestConsoleTraceTrue(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter("trace()", "\nfalse\n")
	term.enter("s = socket(AF_INET, SOCK_DGRAM); trace(true); print(bind(s, '127.0.0.1', 0))", "\n0\n")
	if !regexp.MustCompile(`\nbind\(\d+, \{sa_family=AF_INET, sin_port=htons\(0\), sin_addr=inet_addr\("127.0.0.1"\)\}, 16\) = 0\n`).MatchString(term.screen()) {
		t.Errorf("trace(true) did not print the bind:\n%s", term.screen())
	}
	term.enter("trace()", "\ntrue\n")
	term.enter("trace(false); print(close(s))", "\n0\n")
	if regexp.MustCompile(`\nclose\(\d+\) = 0\n`).MatchString(term.screen()) {
		t.Errorf("trace(false) still printed:\n%s", term.screen())
	}
	udplab(t, "print(trace())\n").check(t, "false\n", "", 0)
}

// help() keeps its heading on a 24-row screen and lists the console's own calls; help of each
// describes it, where it said "Lua's own" with a link to a manual that never had it.
func TestConsoleHelpList(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter("help()", "An address")
	shown := strings.TrimSuffix(term.screen()[strings.Index(term.screen(), "help()\n")+len("help()\n"):], "udplab> ")
	if rows := strings.Count(shown, "\n") + 1; rows > 24-2 {
		t.Errorf("help() takes %d rows with the prompts, more than a 24-row screen:\n%s", rows+2, shown)
	}
	for _, name := range []string{"run", "bg", "jobs", "stop", "socket", "network", "diagram"} {
		if !regexp.MustCompile(`\b` + name + `\b`).MatchString(shown) {
			t.Errorf("help() does not list %s:\n%s", name, shown)
		}
	}
	for _, name := range []string{"run", "bg", "jobs", "stop"} {
		term.enter("help("+name+")", "\nreturns\n")
		if !strings.Contains(term.screen(), "\n"+name+"(") || strings.Contains(term.screen(), "Lua's own") {
			t.Errorf("help(%s):\n%s", name, term.screen())
		}
	}
	term.enter("function mine() end", "\n")
	term.enter("help(mine)", "a function written in Lua, defined at stdin:1\n")
}

// help(send) lays its errno values out with their reasons in one column.
func TestConsoleHelpErrnoColumn(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter("help(send)", "EAGAIN (11)")
	column := -1
	for _, line := range strings.Split(term.screen(), "\n") {
		m := regexp.MustCompile(`^  E[A-Z]+ \(\d+\) +`).FindString(line)
		if m == "" {
			continue
		}
		if column >= 0 && len(m) != column {
			t.Errorf("the reasons start at columns %d and %d:\n%s", column, len(m), term.screen())
		}
		column = len(m)
	}
	if column < 0 {
		t.Fatalf("no errno line:\n%s", term.screen())
	}
}

// help(ERRNO) says which calls return it and why, for every errno the lab's scripts meet and the
// lab's own calls return, as it does for ECONNREFUSED, and what a student meets it for on a lab
// host (TestLabErrnosAsHelpSays checks what it says).
func TestHelpLabErrnos(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter("help(EHOSTUNREACH)", "recv: an ICMP error came back")

	// network{} without user namespaces; a closed network; a router's send off its LANs; a bind to
	// another host's address
	names := map[string]bool{"EPERM": true, "EBADF": true, "ENETUNREACH": true, "EADDRNOTAVAIL": true}
	for _, s := range scripts.List() {
		if !strings.HasPrefix(s.Path, "lan/") {
			continue
		}
		src, err := fs.ReadFile(scripts.FS, s.Path)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range regexp.MustCompile(`\bE[A-Z]{3,}\b`).FindAllString(string(src), -1) {
			names[name] = true
		}
	}
	var chunk strings.Builder
	for name := range names {
		fmt.Fprintf(&chunk, "print('-- %s') help(%s)\n", name, name)
	}
	out := udplab(t, chunk.String()).stdout
	for name := range names {
		section := out[strings.Index(out, "-- "+name+"\n"):]
		if next := strings.Index(section[1:], "\n-- "); next >= 0 {
			section = section[:next+1]
		}
		if !regexp.MustCompile(`\n  [a-z.:]+: \S`).MatchString(section) {
			t.Errorf("help(%s) names no call that returns it:\n%s", name, section)
		}
		if !strings.Contains(section, "\n  on a lab host: ") {
			t.Errorf("help(%s) does not say what it means on a lab host:\n%s", name, section)
		}
	}
}

// help(net) lists a network's hosts with their addresses and what a host can do; help(net.a) one
// host, its methods and their errors.
func TestConsoleHelpNetwork(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter(`net, why = network{"a", "b"}; print(net and "up" or why)`, "\n")
	if strings.Contains(term.screen(), "user namespaces") {
		t.Skip(term.screen())
	}
	term.enter("help(net)", "net:close()")
	for _, want := range []string{"network(a, b)", "net.a       10.0.0.1, fd00::1\n", "net.b       10.0.0.2, fd00::2\n", "net.a:socket(family, type[, protocol])", "net.a:firewall(mode)"} {
		if !strings.Contains(term.screen(), want) {
			t.Errorf("help(net) does not show %q:\n%s", want, term.screen())
		}
	}
	term.enter("help(net.b)", "net.b:nat(lan)")
	for _, want := range []string{"host b: 10.0.0.2, fd00::2\n", "net.b:down()", "EBADF (9)", "the network is closed"} {
		if !strings.Contains(term.screen(), want) {
			t.Errorf("help(net.b) does not show %q:\n%s", want, term.screen())
		}
	}
}

// A nil global passed where a value was expected is named, with the constant it is close to,
// at the console and in a script: socket(AF_INTE, SOCK_DGRAM).
func TestConsoleDidYouMeanValue(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter("socket(AF_INTE, SOCK_DGRAM)", "stdin:1: bad argument #1 to 'socket' (global 'AF_INTE' is nil; did you mean AF_INET?)\n")
	term.enter("s = socket(AF_INET, SOCK_DGRAM)", "\n")
	term.enter("s:setsockopt(SOL_SOCKET, SO_BRAODCAST, 1)", "bad argument #2 to 'setsockopt' (global 'SO_BRAODCAST' is nil; did you mean SO_BROADCAST?)\n")
	term.enter("socket(nothing_like_it, SOCK_DGRAM)", "bad argument #1 to 'socket' (number expected, got nil)\n")
	udplab(t, "", "-e", "local AF_INTE = nil\nsocket(AF_INTE, SOCK_DGRAM)").check(t, "", "udplab: <string>:2: bad argument #1 to 'socket' (number expected, got nil)\n", 1)
}

// The banner is wrapped at word boundaries to the terminal's width (at 100 columns its 104
// characters wrapped mid-word).
func TestConsoleBannerWraps(t *testing.T) {
	t.Parallel()
	for _, cols := range []uint16{100, 40} {
		dir := t.TempDir()
		cmd := exec.Command("udplab")
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_STATE_HOME="+dir, "TERM=xterm")
		term := startTerminalSized(t, cmd, cols)
		rows := vtScreen(term.raw(), int(cols))
		var banner []string
		for _, row := range rows {
			if strings.HasPrefix(row, "udplab>") {
				break
			}
			banner = append(banner, row)
		}
		want := version + ": the socket calls are Lua globals. help() lists them; Tab completes; Ctrl-D or exit leaves."
		if got := strings.Join(banner, " "); got != want {
			t.Errorf("at %d columns the banner reads:\n%s", cols, strings.Join(banner, "\n"))
		}
	}
}

// Ctrl-C while a chunk runs leaves "interrupted" alone on its line, not after the ^C the
// terminal echoed; a line the chunk left unfinished is kept.
func TestConsoleInterruptedLine(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.mark()
	term.typeKeys("io.stderr:write('partial'); while true do end\r")
	term.waitFor("partial", screenWait)
	time.Sleep(50 * time.Millisecond)
	term.typeKeys("\x03")
	term.promptAfter("interrupted", screenWait)
	term.mark()
	term.typeKeys("print('spin' .. 'ning'); while true do end\r")
	term.waitFor("\nspinning\n", screenWait)
	time.Sleep(50 * time.Millisecond)
	term.typeKeys("\x03")
	term.promptAfter("interrupted", screenWait)
	rows := vtScreen(term.raw(), 80)
	if !contains(rows, "interrupted") {
		t.Errorf("no line reads \"interrupted\" alone:\n%s", strings.Join(rows, "\n"))
	}
}

// A function of udplab's shows its name where Lua shows an address.
func TestConsoleShowsBuiltinNames(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter("recv", "\nfunction: recv (udplab)\n")
	term.enter("{send, bg}", "\n{function: send (udplab), function: bg (udplab)}\n")
}

// A host name that cannot be looked up because the name server cannot be reached says so, with
// the errno, where it showed Go's resolver text ("dial udp ...: connect: network is
// unreachable"). udplab runs in a network namespace of its own, where nothing is reachable.
func TestConsoleResolverUnreachable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command("udplab")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_STATE_HOME="+dir, "TERM=xterm")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	if err := exec.Command("unshare", "-rn", "true").Run(); err != nil {
		t.Skipf("no user namespaces here: %v", err)
	}
	term := startTerminalCmd(t, cmd)
	term.enter(`s = socket(AF_INET, SOCK_DGRAM); connect(s, "foo", 1)`, "(cannot resolve host")
	want := regexp.MustCompile(`bad argument #2 to 'connect' \(cannot resolve host "foo": the name server \S+ cannot be reached: Network is unreachable \(101\)\)\n`)
	if !want.MatchString(term.screen()) || strings.Contains(term.screen(), "dial udp") {
		t.Errorf("the resolver's failure:\n%s", term.screen())
	}
}

// --diagram "" is refused, as a missing file name is, where it was silently ignored (and the
// console opened).
func TestConsoleDiagramEmptyName(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("udplab", "--diagram", "")
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read := make(chan []byte, 1)
	go func() {
		out, _ := io.ReadAll(f) // EIO once udplab has exited and the terminal is closed
		read <- out
	}()
	select {
	case out := <-read:
		if !strings.HasPrefix(string(out), "udplab: '--diagram' needs a file name (- for standard output)") {
			t.Errorf("udplab --diagram '' printed %q", out)
		}
		if err := cmd.Wait(); cmd.ProcessState.ExitCode() != 2 {
			t.Errorf("udplab --diagram '': %v, want exit status 2", err)
		}
	case <-time.After(screenWait):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("udplab --diagram '' did not exit")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// vtScreen renders what was written to a terminal of cols columns as its lines: enough of a
// VT100 for the line editor's redraws (carriage return, line feed, backspace, erasing, cursor
// moves, the pending wrap at the last column); other escapes are dropped.
func vtScreen(raw string, cols int) []string {
	var rows [][]rune
	r, c := 0, 0
	at := func(row int) []rune {
		for len(rows) <= row {
			rows = append(rows, nil)
		}
		return rows[row]
	}
	for i := 0; i < len(raw); {
		ch, size := utf8.DecodeRuneInString(raw[i:])
		i += size
		switch {
		case ch == '\r':
			c = 0
		case ch == '\n':
			r++
		case ch == '\b':
			c = max(0, min(c, cols-1)-1)
		case ch == 0x1b:
			m := regexp.MustCompile(`^\[([0-9;?]*)[ -/]*([@-~])`).FindStringSubmatch(raw[i:])
			if m == nil {
				i++ // a two-byte escape
				continue
			}
			i += len(m[0])
			n, err := strconv.Atoi(m[1])
			if err != nil || n == 0 {
				n = 1
			}
			switch m[2] {
			case "A":
				r = max(0, r-n)
			case "B":
				r += n
			case "C":
				c = min(cols-1, c+n)
			case "D":
				c = max(0, c-n)
			case "K":
				row := at(r)
				if m[1] == "2" {
					rows[r] = nil
				} else if c < len(row) {
					rows[r] = row[:c]
				}
			case "J":
				if row := at(r); c < len(row) {
					rows[r] = row[:c]
				}
				rows = rows[:r+1]
			}
		case ch < 0x20:
		default:
			if c >= cols {
				r, c = r+1, 0
			}
			row := at(r)
			for len(row) <= c {
				row = append(row, ' ')
			}
			row[c] = ch
			rows[r] = row
			c++
		}
	}
	lines := make([]string, len(rows))
	for i, row := range rows {
		lines[i] = strings.TrimRight(string(row), " ")
	}
	return lines
}

// help() names the experiment helpers, help("experiment") describes each function the module
// has (from the comments in its source), and help(experiment.expect) the one.
func TestConsoleHelpExperiment(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter("help()", "An address")
	if !regexp.MustCompile(`\n  experiment +.*\bexpect\b`).MatchString(term.screen()) {
		t.Errorf("help() does not list the experiment helpers:\n%s", term.screen())
	}
	term.enter(`help("experiment")`, "experiment.finish(verdict)")
	described := term.screen()
	term.enter(`experiment = require("experiment"); for k, v in pairs(experiment) do if type(v) == "function" then print("has " .. k) end end`, "has ")
	for _, m := range regexp.MustCompile(`\nhas (\w+)`).FindAllStringSubmatch(term.screen(), -1) {
		if !strings.Contains(described, "\nexperiment."+m[1]+"(") && !strings.Contains(described, ", experiment."+m[1]+"(") {
			t.Errorf("help(\"experiment\") does not describe experiment.%s:\n%s", m[1], described)
		}
	}
	term.enter("help(experiment.expect)", "defined at udplab:lib/experiment.lua:")
	if !strings.Contains(term.screen(), "experiment.expect(ok, fmt, ...) records the expectation") {
		t.Errorf("help(experiment.expect):\n%s", term.screen())
	}
}
