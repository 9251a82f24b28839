package lua

import (
	"bytes"
	"strings"
	"testing"

	glua "github.com/yuin/gopher-lua"
)

// newState returns a Lua state with this package's standard library, whose print and io.write
// write to out, closed when the test ends.
func newState(t testing.TB, out *bytes.Buffer) (*glua.LState, *Runtime) {
	t.Helper()
	L := glua.NewState()
	rt := Open(L, Options{Stdout: out, Stderr: out, MemoryLimit: 256 << 20,
		Exit: func(code int) { L.RaiseError("exit %d", code) }})
	t.Cleanup(func() {
		rt.Close()
		L.Close()
	})
	return L, rt
}

// runChunk runs code as a program built on this package runs a chunk: compiled by Load.
func runChunk(L *glua.LState, code string) error {
	fn, err := Load(L, strings.NewReader(code), "=<string>")
	if err != nil {
		return err
	}
	L.Push(fn)
	return L.PCall(0, glua.MultRet, nil)
}
