package console

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// newSession returns a Session writing to buffers, closed when the test ends.
func newSession(t *testing.T) (*Session, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	s := New(Options{Stdout: &stdout, Stderr: &stderr, Version: "udplab test"})
	t.Cleanup(func() { s.Close() })
	return s, &stdout, &stderr
}

func TestChunkBoundaries(t *testing.T) {
	for _, tc := range []struct {
		lines  []string
		chunks []string // the chunks complete after each line ("" while incomplete)
	}{
		{[]string{"1+1"}, []string{"1+1\n"}},
		{[]string{"for i = 1, 2 do", "print(i)", "end"}, []string{"", "", "for i = 1, 2 do\nprint(i)\nend\n"}},
		{[]string{"x = {", "1,", "}"}, []string{"", "", "x = {\n1,\n}\n"}},
		{[]string{"s = [[", "end", "]]"}, []string{"", "", "s = [[\nend\n]]\n"}},
		{[]string{"--[==[ a comment", "function", "]==] y = 1"}, []string{"", "", "--[==[ a comment\nfunction\n]==] y = 1\n"}},
		{[]string{"x = 'do' -- then", "y = \"(\""}, []string{"x = 'do' -- then\n", "y = \"(\"\n"}},
		{[]string{"x ="}, []string{""}},                  // cut short: the parser says so at EOF
		{[]string{"x = )"}, []string{"x = )\n"}},         // a syntax error before the end: runs, and reports it
		{[]string{"print(1))"}, []string{"print(1))\n"}}, // closes more than it opened
		{[]string{"=2*3"}, []string{"=2*3\n"}},
		{[]string{"   "}, []string{""}},
		// a backslash before the newline, or \z, goes on in the next line: its brackets are text
		{[]string{`print("a\`, `b")`, "print(2)"}, []string{"", "print(\"a\\\nb\")\n", "print(2)\n"}},
		{[]string{`x = "a\z`, `   (b"`, "y = 1"}, []string{"", "x = \"a\\z\n   (b\"\n", "y = 1\n"}},
		{[]string{`x = '(\`, `\`, `'`}, []string{"", "", "x = '(\\\n\\\n'\n"}},
	} {
		var r chunkReader
		for i, line := range tc.lines {
			got, complete := r.add(line)
			if want := tc.chunks[i]; got != want || complete != (want != "") {
				t.Errorf("%q: after line %d got %q (%v), want %q", tc.lines, i+1, got, complete, want)
			}
		}
	}
}

// A 5,000-line table literal asks the parser once, not once per line.
func TestLongChunkIsLinear(t *testing.T) {
	var r chunkReader
	r.add("t = {")
	for i := 0; i < 5000; i++ {
		if _, complete := r.add("  {n = 1, s = \"x\"},"); complete {
			t.Fatal("complete before the closing brace")
		}
	}
	if src, complete := r.add("}"); !complete || strings.Count(src, "\n") != 5002 {
		t.Fatalf("not complete after the closing brace: %v", complete)
	}
	if r.parses > 2 {
		t.Errorf("the parser was asked %d times", r.parses)
	}
}

// Piped input: each complete chunk runs as read, expressions print their values, an error makes
// the status 1 and the next chunk still runs.
func TestBatch(t *testing.T) {
	t.Parallel()
	s, stdout, stderr := newSession(t)
	status := s.REPL(strings.NewReader("print(1+1)\nx = 3\nx * 2\nfor i = 1, 2 do\n print(i)\nend\nerror('boom')\n'last'"))
	if got, want := stdout.String(), "2\n6\n1\n2\n\"last\"\n"; got != want || status != 1 {
		t.Errorf("stdout %q, status %d; want %q, 1", got, status, want)
	}
	if got, want := stderr.String(), "udplab: stdin:1: boom\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// Errors as lua5.4 reports them: the culprit of a runtime error named, a local's included; an
// error object shown by its __tostring.
func TestBatchErrorsAsLua54(t *testing.T) {
	t.Parallel()
	s, _, stderr := newSession(t)
	s.REPL(strings.NewReader("local x; print(#x)\nerror(setmetatable({}, {__tostring = function() return 'custom' end}))\nerror({})\nsetmetatable(1, {})\n"))
	want := "udplab: stdin:1: attempt to get length of a nil value (local 'x')\n" +
		"udplab: custom\n" +
		"udplab: (error object is a table value)\n" +
		"udplab: stdin:1: bad argument #1 to 'setmetatable' (table expected, got number)\n"
	if got := stderr.String(); got != want {
		t.Errorf("stderr %q\nwant   %q", got, want)
	}
}

// Completion: globals, fields after ".", methods after ":", and nothing (never an error) for a
// value with no methods or a name that is not there.
func TestCompletion(t *testing.T) {
	t.Parallel()
	s, _, _ := newSession(t)
	if err := s.RunChunk(`sk = socket(AF_INET, SOCK_DGRAM); n = 5; tb = {}; setmetatable(tb, {__index = function() error("no") end})`); err != nil {
		t.Fatal(err)
	}
	c := &completer{L: s.L}
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"SO_BROADC", []string{"AST"}},
		{"string.fo", []string{"rmat"}},
		{"sk:getsockn", []string{"ame"}},
		{"nothing:", nil},
		{"n:", nil},
		{"tb:", nil},
		{"tb.x", nil},
		{"x.y.", nil},
		{":", nil},
	} {
		endings, _ := c.Do([]rune(tc.line), len([]rune(tc.line)))
		var got []string
		for _, e := range endings {
			got = append(got, string(e))
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("completing %q: %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestShowValue(t *testing.T) {
	t.Parallel()
	s, stdout, _ := newSession(t)
	if err := s.eval(context.Background(), `1, "two", {1, "a", x = 2, [true] = 3}, nil`); err != nil {
		t.Fatal(err)
	}
	if got, want := stdout.String(), "1\t\"two\"\t{1, \"a\", [true]=3, x=2}\tnil\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	stdout.Reset() // numbers as Lua 5.4 writes them
	if err := s.eval(context.Background(), `0.1 + 0.2, 1/0, -0.0, {1/3}`); err != nil {
		t.Fatal(err)
	}
	if got, want := stdout.String(), "0.3\tinf\t-0.0\t{0.33333333333333}\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Piped input read by io.read is input, not console lines: the line after x = io.read() is what
// x holds, and it does not run.
func TestBatchIORead(t *testing.T) {
	t.Parallel()
	s, stdout, stderr := newSession(t)
	status := s.REPL(strings.NewReader("x, n = io.read(), io.read('n')\nprint(1)\n 42\nprint(x, n)\n"))
	if got, want := stdout.String(), "print(1)\t42\n"; got != want || status != 0 || stderr.Len() != 0 {
		t.Errorf("stdout %q, stderr %q, status %d; want %q, 0", got, stderr, status, want)
	}
}

// run, bg and stop check their arguments as Lua's own functions do (called by pcall, a Go function,
// their errors have no position, as in PUC Lua).
func TestJobArgumentErrors(t *testing.T) {
	t.Parallel()
	s, stdout, _ := newSession(t)
	err := s.eval(context.Background(), `print(pcall(stop, {})); print(pcall(run)); print(pcall(bg, "x", {}))`)
	want := "false\tbad argument #1 to 'stop' (job expected, got table)\n" +
		"false\tbad argument #1 to 'run' (string expected, got no value)\n" +
		"false\tbad argument #2 to 'bg' (string expected, got table)\n"
	if err != nil || stdout.String() != want {
		t.Errorf("got %q, %v\nwant %q", stdout.String(), err, want)
	}
}

// help(SO_BROADCAST) typed at the console asks about the name; help(x) of the script's own
// variable asks about its value.
func TestHelpOfAName(t *testing.T) {
	t.Parallel()
	s, stdout, _ := newSession(t)
	if err := s.eval(context.Background(), `help(SO_BROADCAST)`); err != nil || !strings.HasPrefix(stdout.String(), "SO_BROADCAST = 6\n") {
		t.Errorf("help(SO_BROADCAST): %q, %v", stdout.String(), err)
	}
	stdout.Reset()
	s.eval(context.Background(), `x = 6`)
	if err := s.eval(context.Background(), `help(x)`); err != nil || !strings.HasPrefix(stdout.String(), "6 is the value of ENXIO, IPPROTO_TCP, SO_BROADCAST") {
		t.Errorf("help(x) with x = 6: %q, %v", stdout.String(), err)
	}
}
