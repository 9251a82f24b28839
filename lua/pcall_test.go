package lua

import (
	"bytes"
	"strings"
	"testing"

	glua "github.com/yuin/gopher-lua"
)

// After an error pcall caught, the caller's locals and the closures that share them stay one
// variable (gopher-lua's issue #448 lost the write); a closure made in the failed call keeps the
// value its variable had when the error unwound it. Each line is checked against lua5.4.
func TestPcallKeepsUpvalues(t *testing.T) {
	t.Parallel()
	cases := []struct{ code, want string }{
		{`local a; local function use() return a end; pcall(function() error("x") end); a = 42; print(use())`, "42\n"},
		{`local r = 0 local function pk() r = 1 end pcall(error, "x") pk() print(r)`, "1\n"},
		{`local a = 1 local function get() return a end xpcall(function() error("x") end, function(m) return m end) a = 2 print(get())`, "2\n"},
		{`local a = 0 local function set() a = a + 1 end pcall(function() pcall(error) error("outer") end) set() print(a)`, "1\n"},
		{`local fs = {} for i = 1, 3 do pcall(function() local v = i * 10 fs[i] = function() return v end error("e") end) end print(fs[1](), fs[2](), fs[3]())`, "10\t20\t30\n"},
		{`local keep pcall(function() local x = "inner" keep = function() return x end error("e") end) local y = "other" print(keep())`, "inner\n"},
		{`local keep xpcall(function() local x = 1 keep = function() return x end error("e") end, function(m) return m end) local y = {} print(keep())`, "1\n"},
		{`local n = 0 for i = 1, 100 do pcall(error, i) end local function inc() n = n + 1 end inc() print(n)`, "1\n"},
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

// A program's own top-level call through PCall: an error leaves no upvalue of its chunk open.
func TestPCallClosesTheChunksUpvalues(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	L, rt := newState(t, &out)
	fn, err := Load(L, strings.NewReader(`local x = "kept" g = function() return x end error("boom")`), "=chunk")
	if err != nil {
		t.Fatal(err)
	}
	L.Push(fn)
	if err := rt.PCall(L, 0, 0); err == nil || !strings.Contains(err.Error(), "chunk:1: boom") {
		t.Fatalf("PCall: %v", err)
	}
	if err := runChunk(L, `local a, b, c = 1, 2, 3 print(g())`); err != nil || out.String() != "kept\n" {
		t.Errorf("g() printed %q (%v), want \"kept\"", out.String(), err)
	}
}

// BenchmarkPcall measures pcall before (gopher-lua's own) and after (this package's, on a helper
// thread), in one run: a call that returns, and one that raises.
func BenchmarkPcall(b *testing.B) {
	const loop = `local n, f = ... for i = 1, n do pcall(f, i) end`
	for _, fn := range []struct{ name, code string }{
		{"returns", `return function(i) return i end`},
		{"raises", `return function(i) error("x") end`},
	} {
		for _, impl := range []string{"gopher-lua", "lua54"} {
			b.Run(fn.name+"/"+impl, func(b *testing.B) {
				L := glua.NewState()
				defer L.Close()
				if impl == "lua54" {
					defer Open(L, Options{}).Close()
				}
				if err := L.DoString(fn.code); err != nil {
					b.Fatal(err)
				}
				f := L.Get(-1)
				L.Pop(1)
				run, err := L.LoadString(loop)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				L.Push(run)
				L.Push(glua.LNumber(b.N))
				L.Push(f)
				if err := L.PCall(2, 0, nil); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
