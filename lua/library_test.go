package lua

import (
	"bytes"
	"testing"
)

// Library details as lua5.4 has them (each expected line is lua5.4's): %q writes "\r" as
// "\13"; %q takes no modifiers; %s with modifiers refuses a string with zeros; %p is known;
// io.flush returns true; read("n") refuses a numeral longer than 200 characters (and leaves the
// rest); tonumber reads hexadecimal floats; read(-1) asks for more memory than there is.
func TestLibraryAsLua54(t *testing.T) {
	t.Parallel()
	cases := []struct{ code, want string }{
		{`print(string.format("%q", "a\rb"), pcall(string.format, "%10q", "x"))`, "\"a\\13b\"\tfalse\tspecifier '%q' cannot have modifiers\n"},
		{`print(pcall(string.format, "%10s", "a\0b"))`, "false\tbad argument #2 to 'string.format' (string contains zeros)\n"},
		{`print(string.format("%p", nil), string.format("%p", {}) ~= string.format("%p", {}), pcall(string.format, "%5.1p", 1))`, "(null)\ttrue\tfalse\tinvalid conversion specification: '%5.1p'\n"},
		{`print(io.flush(), io.stdout:flush())`, "true\ttrue\n"},
		{`local f = io.tmpfile() f:write(string.rep("9", 201), " 42") f:seek("set") print(f:read("n"), f:read("n"))`, "nil\t9\n"},
		{`local f = io.tmpfile() f:write(string.rep("9", 200)) f:seek("set") print(f:read("n"))`, "1e+200\n"},
		{`print(tonumber("0x1p4") == 16, tonumber("0x.8"), tonumber("0xA.8p1") == 21)`, "true\t0.5\ttrue\n"},
		{`local f = io.tmpfile() print(pcall(f.read, f, -1))`, "false\tnot enough memory\n"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		L, _ := newState(t, &out)
		if err := runChunk(L, tc.code); err != nil {
			t.Fatalf("%s: %v", tc.code, err)
		}
		if out.String() != tc.want {
			t.Errorf("%s\ngot  %q\nwant %q", tc.code, out.String(), tc.want)
		}
	}
}
