package luabind

import (
	"bytes"
	"slices"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Step mode pauses before each socket call, and only those, and shows it as the script wrote it:
// the socket by its name or its variable, constants by name, strings quoted, an address table as
// host:port, a host's method as a:socket; [c] (StepSection) runs on to the next section.
func TestStepShowsTheCall(t *testing.T) {
	var shown []string
	answers := map[string]StepAnswer{`connect(server, "127.0.0.1:9")`: StepSection}
	L := lua.NewState()
	defer L.Close()
	var out bytes.Buffer
	rt := Open(L, Options{Stdout: &out, Stderr: &out, MemoryLimit: 256 << 20, Step: func(L *lua.LState, next string) (StepAnswer, error) {
		shown = append(shown, next)
		return answers[next], nil
	}})
	defer rt.Shutdown()
	rt.Step(true)
	err := L.DoString(`
		local s = socket(AF_INET, SOCK_DGRAM)
		setsockopt(s, SOL_SOCKET, SO_BROADCAST, 1)
		print(strerror(111)) -- not a socket call
		sendto(s, "g1\n", {family = AF_INET, addr = "127.0.0.1", port = 9})
		recv(s, 100, MSG_DONTWAIT)
		label(s, "server")
		s:connect("127.0.0.1:9")
		close(s) -- run on to the next section: no pause
		section("two")
		local t = socket(AF_INET6, SOCK_DGRAM)
		local net = network{"a"}
		if net then net.a:socket(AF_INET, SOCK_DGRAM); net:close() end`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`socket(AF_INET, SOCK_DGRAM)`, `setsockopt(s, SOL_SOCKET, SO_BROADCAST, 1)`, `sendto(s, "g1\n", 127.0.0.1:9)`,
		`recv(s, 100, MSG_DONTWAIT)`, `connect(server, "127.0.0.1:9")`, `socket(AF_INET6, SOCK_DGRAM)`, `a:socket(AF_INET, SOCK_DGRAM)`}
	if len(shown) == len(want)-1 && !slices.Contains(shown, want[len(want)-1]) {
		want = want[:len(want)-1] // no lab here
	}
	if !slices.Equal(shown, want) {
		t.Errorf("pauses:\n%q\nwant:\n%q", shown, want)
	}
	rt.Step(false)
	shown = nil
	L.DoString(`socket(AF_INET, SOCK_DGRAM)`)
	if len(shown) != 0 {
		t.Errorf("paused with step mode off: %q", shown)
	}
}
