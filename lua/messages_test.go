package lua

import (
	"bytes"
	"strings"
	"testing"
)

// Errors say what lua5.4 says for the same code (each expected line is lua5.4's output): the
// culprit of a runtime error named, a local's and an upvalue's included; string arithmetic,
// comparisons and numeric for loops in Lua 5.4's words; goto's compile errors; argument errors
// naming the function by the name it was called by, or by its module's when pcall called it, and
// with no position then; error's level and assert's position as Lua counts them.
func TestErrorsAsLua54Words(t *testing.T) {
	t.Parallel()
	cases := []struct{ code, want string }{
		{`print(pcall(function() local x; return #x end))`, "false\tt:1: attempt to get length of a nil value (local 'x')\n"},
		{`print(pcall(function() return -{} end))`, "false\tt:2: attempt to perform arithmetic on a table value\n"},
		{`print(pcall(function() return "x" + 1 end))`, "false\tt:3: attempt to add a 'string' with a 'number'\n"},
		{`print(load("goto x"))`, "nil\t[string \"goto x\"]:1: no visible label 'x' for <goto> at line 1\n"},
		{`print(pcall(setmetatable, 1, {}))`, "false\tbad argument #1 to 'setmetatable' (table expected, got number)\n"},
		{`print(pcall(function() local t = {} return t.n + 1 end))`, "false\tt:6: attempt to perform arithmetic on a nil value (field 'n')\n"},
		{`print(pcall(function() local up = nil; return (function() return up.x end)() end))`, "false\tt:7: attempt to index a nil value (upvalue 'up')\n"},
		{`print(pcall(function() nosuch() end))`, "false\tt:8: attempt to call a nil value (global 'nosuch')\n"},
		{`print(pcall(function() local s = {}; s:nomethod() end))`, "false\tt:9: attempt to call a nil value (method 'nomethod')\n"},
		{`print(pcall(function() return {} < {} end))`, "false\tt:10: attempt to compare two table values\n"},
		{`print(pcall(function() local t = {} return "a" .. t.b end))`, "false\tt:11: attempt to concatenate a nil value (field 'b')\n"},
		{`print(pcall(function() for i = 1, "x" do end end))`, "false\tt:12: bad 'for' limit (number expected, got string)\n"},
		{`print(pcall(function() for i = 1, 2, 0 do end end))`, "false\tt:13: 'for' step is zero\n"},
		{`print(pcall(function() ("x"):rep({}) end))`, "false\tt:14: bad argument #1 to 'rep' (number expected, got table)\n"},
		{`print(pcall(function() string.rep() end))`, "false\tt:15: bad argument #1 to 'rep' (string expected, got no value)\n"},
		{`print(pcall(string.rep))`, "false\tbad argument #1 to 'string.rep' (string expected, got no value)\n"},
		{`print(pcall(function() error("lvl2", 2) end))`, "false\tlvl2\n"},
		{`print(pcall(function() assert(false) end))`, "false\tt:18: assertion failed!\n"},
	}
	var src strings.Builder
	var want strings.Builder
	for _, tc := range cases {
		src.WriteString(tc.code + "\n")
		want.WriteString(tc.want)
	}
	var out bytes.Buffer
	L, _ := newState(t, &out)
	fn, err := Load(L, strings.NewReader(src.String()), "=t")
	if err != nil {
		t.Fatal(err)
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(out.String(), "\n")
	for i, w := range strings.Split(want.String(), "\n") {
		if i < len(got) && got[i] != w {
			t.Errorf("%s\ngot  %q\nwant %q", cases[min(i, len(cases)-1)].code, got[i], w)
		}
	}
}
