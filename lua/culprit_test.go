package lua

import (
	"bytes"
	"strings"
	"testing"

	glua "github.com/yuin/gopher-lua"
)

// Errors name their culprit as PUC Lua 5.4 does (each message checked against lua5.4), with a
// suggestion when a known name is one or two edits away.
func TestCulpritNamed(t *testing.T) {
	t.Parallel()
	cases := []struct{ src, want string }{
		{`prnit(1)`, "attempt to call a nil value (global 'prnit'); did you mean print?"},
		{`t = {send = print}; t:sned("x")`, "attempt to call a nil value (method 'sned'); did you mean send?"},
		{`t = {}; t:foo()`, "attempt to call a nil value (method 'foo')"},
		{`string.fromat("x")`, "attempt to call a nil value (field 'fromat'); did you mean format?"},
		{`x = 5; x()`, "attempt to call a number value (global 'x')"},
		{`local t = nil; t.x()`, "attempt to index a nil value (local 't')"},
		{`print(math.foo.bar)`, "attempt to index a nil value (field 'foo')"},
		{`exit()`, "attempt to call a nil value (global 'exit'); did you mean os.exit?"},
		{"print(1)\nx = 1\ntosting(x)", "attempt to call a nil value (global 'tosting'); did you mean tostring?"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		L, _ := newState(t, &out)
		err := runChunk(L, tc.src)
		if err == nil {
			t.Errorf("%s: no error", tc.src)
			continue
		}
		msg := NameCulprit(L, errorObject(err), tc.src)
		if _, got, _ := strings.Cut(msg, ": "); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.src, got, tc.want)
		}
	}
}

// The end of a chunk that is not complete says what it lacks, as PUC Lua does.
func TestSyntaxErrorAtEOF(t *testing.T) {
	t.Parallel()
	cases := []struct{ src, want string }{
		{`print(1`, "<string>:1: ')' expected near <eof>"},
		{`for i = 1, 2 do`, "<string>:1: 'end' expected near <eof>"},
		{"f = function()\n if x then\n print(1)", "<string>:3: 'end' expected (to close 'if' at line 2) near <eof>"},
		{"t = {1, 2,\n3", "<string>:2: '}' expected (to close '{' at line 1) near <eof>"},
		{`repeat x()`, "<string>:1: 'until' expected near <eof>"},
		{`x =`, "<string>:1: unexpected symbol near <eof>"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		L, _ := newState(t, &out)
		if err := runChunk(L, tc.src); err == nil || err.Error() != tc.want {
			t.Errorf("%q: got %v, want %q", tc.src, err, tc.want)
		}
	}
}

// errorObject is the message a Lua error carries.
func errorObject(err error) string {
	if apiErr, ok := err.(*glua.ApiError); ok {
		return apiErr.Object.String()
	}
	return err.Error()
}
