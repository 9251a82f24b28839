package luabind

import (
	"bytes"
	"strings"
	"testing"
)

// Every call has the types --lua-defs writes: each parameter its synopses name, and what it
// returns; a new call without them fails here, not in the editor.
func TestLuaDefsCoverEveryCall(t *testing.T) {
	var out bytes.Buffer
	_, rt := newState(t, &out)
	var defs bytes.Buffer
	if err := rt.WriteLuaDefs(&defs); err != nil {
		t.Fatal(err)
	}
	for _, b := range rt.bindings {
		if _, ok := luaReturns[b.name]; !ok && b.returns == "" {
			t.Errorf("no return type for %s", b.name)
		}
		if !strings.Contains(defs.String(), "\nfunction "+b.name+"(") {
			t.Errorf("no definition of %s", b.name)
		}
	}
	for _, e := range hostMethodHelp {
		if _, ok := luaReturns[methodName(e.synopsis)]; !ok {
			t.Errorf("no return type for %s", e.synopsis)
		}
	}
}

// What a call returns, position by position, on success and failure.
func TestLuaResults(t *testing.T) {
	for _, tc := range []struct {
		success string
		failure bool
		want    string
	}{
		{"socket", true, "socket? string? integer?"},
		{"string, address, integer?", true, "string? address|string integer?"},
		{"job", false, "job"},
		{"", false, ""},
		{"boolean?", false, "boolean?"},
	} {
		types, _ := luaResults(tc.success, tc.failure)
		if got := strings.Join(types, " "); got != tc.want {
			t.Errorf("luaResults(%q, %v) = %q, want %q", tc.success, tc.failure, got, tc.want)
		}
	}
}
