package console

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// A chunk of several lines is kept in the history as one line of the same Lua, comments
// included.
func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"for i = 1, 2 do\n  print(i * 111)\nend\n", "for i = 1, 2 do print(i * 111) end"},
		{"for i = 1, 2 do -- count\n  print(i) --show it\nend", "for i = 1, 2 do --[[ count ]] print(i) --[[ show it ]] end"},
		{"x = 1 -- a ]] in it\ny = 2", "x = 1 --[=[ a ]] in it ]=] y = 2"},
		{"x = 1 -- ends with ]\ny = 2", "x = 1 --[[ ends with ] ]] y = 2"},
		{"--[[ a long\ncomment ]] x = 1\ny = 2", "--[[ a long comment ]] x = 1 y = 2"},
		{"s = [[first\nsecond \"quoted\"\\]]\nprint(s)", `s = "first\nsecond \"quoted\"\\" print(s)`},
		{"s = [==[\nskipped first break]==]\nprint(s)", `s = "skipped first break" print(s)`},
		{"s = 'it\\'s -- not a comment'\nt = \"[[ not long ]]\"", `s = 'it\'s -- not a comment' t = "[[ not long ]]"`},
		{"t = {\n  1,\t\n  2,\n}", "t = { 1, 2, }"},
		{"s = [[\x01\x7f\n]]\nx = 1", `s = "\001\127\n" x = 1`},
	} {
		got, ok := oneLine(tc.src)
		if !ok || got != tc.want {
			t.Errorf("oneLine(%q) = %q, %v\nwant %q", tc.src, got, ok, tc.want)
		}
		if before, after := valueOfS(t, tc.src), valueOfS(t, got); before != after {
			t.Errorf("oneLine(%q): s was %q, is %q", tc.src, before, after)
		}
	}
	for _, src := range []string{
		"s = 'a\\\nb'\nx = 1", // a quoted string continued over the line break
		"s = [[ never closed\nx = 1",
	} {
		if got, ok := oneLine(src); ok {
			t.Errorf("oneLine(%q) = %q, want no line", src, got)
		}
	}
}

// valueOfS runs src, with print a no-op, and returns its global s.
func valueOfS(t *testing.T, src string) string {
	t.Helper()
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("print", L.NewFunction(func(*lua.LState) int { return 0 }))
	if err := L.DoString(src); err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	return L.GetGlobal("s").String()
}
