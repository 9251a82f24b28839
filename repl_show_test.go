package main

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing"

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
// lab's own calls return, as it does for ECONNREFUSED.
func TestHelpLabErrnos(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter("help(EHOSTUNREACH)", "recv: an ICMP error came back")

	names := map[string]bool{"EPERM": true, "EBADF": true} // network{} without user namespaces; a closed network
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
	term.enter("s:setsockopt(SOL_SOCKET, SO_BRAODCAST, 1)", "bad argument #3 to 'setsockopt' (global 'SO_BRAODCAST' is nil; did you mean SO_BROADCAST?)\n")
	term.enter("socket(nothing_like_it, SOCK_DGRAM)", "bad argument #1 to 'socket' (number expected, got nil)\n")
	udplab(t, "", "-e", "local AF_INTE = nil\nsocket(AF_INTE, SOCK_DGRAM)").check(t, "", "udplab: <string>:2: bad argument #1 to 'socket' (number expected, got nil)\n", 1)
}
