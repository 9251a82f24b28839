package console

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/luabind"
)

// RunChunk runs the Lua chunk src (a -e argument).
func (s *Session) RunChunk(src string) error {
	return s.L.DoString(src)
}

// RunScript runs the Lua file path ("-": stdin) with arg set as lua(1) sets it: arg[0] the
// script, arg[1]... its arguments, arg[-1] the interpreter; the arguments are also the chunk's
// "...". A first line starting with "#" is skipped.
func (s *Session) RunScript(path string, args []string, stdin io.Reader) error {
	L := s.L
	argt := L.CreateTable(len(args), 2)
	argt.RawSetInt(-1, lua.LString("udplab"))
	argt.RawSetInt(0, lua.LString(path))
	for i, a := range args {
		argt.RawSetInt(i+1, lua.LString(a))
	}
	L.SetGlobal("arg", argt)

	var fn *lua.LFunction
	var err error
	if path == "-" {
		fn, err = L.Load(bufio.NewReader(stdin), "stdin")
	} else {
		luabind.AddScriptPath(L, path)
		var f *os.File
		f, err = os.Open(path)
		if err != nil {
			return fmt.Errorf("cannot open %s", path)
		}
		defer f.Close()
		fn, err = L.Load(skipShebang(bufio.NewReader(f)), path)
	}
	if err != nil {
		return err
	}
	L.Push(fn)
	for _, a := range args {
		L.Push(lua.LString(a))
	}
	return L.PCall(len(args), lua.MultRet, nil)
}

// skipShebang drops a first line that starts with "#", as lua(1) does for "#!/usr/bin/env udplab",
// keeping its newline so that line numbers stay right.
func skipShebang(r *bufio.Reader) io.Reader {
	if b, err := r.Peek(1); err == nil && b[0] == '#' {
		r.ReadString('\n')
		return io.MultiReader(strings.NewReader("\n"), r)
	}
	return r
}

// Report prints a Lua error as lua(1) does: "udplab: file:line: message".
func (s *Session) Report(err error) {
	fmt.Fprintf(s.stderr, "udplab: %s\n", errorMessage(err))
}

// syntaxError matches gopher-lua's syntax errors: "file line:3(column:5) near 'x':   syntax error".
var syntaxError = regexp.MustCompile(`^(.*) line:(\d+)\(column:\d+\) near '(.*)':\s+(.*)$`)

// errorMessage is the message of a Lua error, in PUC Lua's words where gopher-lua's differ: a
// syntax error reads "file:3: syntax error near 'x'".
func errorMessage(err error) string {
	apiErr, ok := err.(*lua.ApiError)
	if !ok {
		return err.Error()
	}
	switch apiErr.Object.Type() {
	case lua.LTString, lua.LTNumber:
	default:
		return "(error object is a " + apiErr.Object.Type().String() + " value)"
	}
	msg := strings.TrimSpace(lua.LVAsString(apiErr.Object))
	if m := syntaxError.FindStringSubmatch(msg); m != nil {
		return m[1] + ":" + m[2] + ": " + m[4] + " near '" + m[3] + "'"
	}
	return msg
}
