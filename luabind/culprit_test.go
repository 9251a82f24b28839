package luabind

import (
	"bytes"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	lua54 "github.com/udplab/udplab/lua"
)

// The culprit finder of package lua knows udplab's names: a misspelt call, a method of a socket.
func TestCulpritNamesSocketCalls(t *testing.T) {
	t.Parallel()
	cases := []struct{ src, want string }{
		{`sokcet(AF_INET)`, "attempt to call a nil value (global 'sokcet'); did you mean socket?"},
		{`s = socket(AF_INET, SOCK_DGRAM); s:sned("x")`, "attempt to call a nil value (method 'sned'); did you mean send?"},
		{`s = socket(AF_INET, SOCK_DGRAM); s:foo()`, "attempt to call a nil value (method 'foo')"},
		{"print(1)\nsocket(AF_INET, SOCK_DGRAM)\nrecvfron(s)", "attempt to call a nil value (global 'recvfron'); did you mean recvfrom?"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		L, _ := newState(t, &out)
		err := runChunk(L, tc.src)
		if err == nil {
			t.Errorf("%s: no error", tc.src)
			continue
		}
		msg := lua54.NameCulprit(L, err.(*lua.ApiError).Object.String(), tc.src)
		if _, got, _ := strings.Cut(msg, ": "); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.src, got, tc.want)
		}
	}
}
