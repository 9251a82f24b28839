package main

import (
	"regexp"
	"testing"
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
