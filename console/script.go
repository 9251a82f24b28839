package console

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"

	lua54 "github.com/udplab/udplab/lua"
	"github.com/udplab/udplab/luabind"
)

// RunChunk runs the Lua chunk src (a -e argument).
func (s *Session) RunChunk(src string) error {
	s.sources["<string>"] = src
	fn, err := lua54.Load(s.L, strings.NewReader(src), "<string>")
	if err != nil {
		return err
	}
	s.L.Push(fn)
	return s.L.PCall(0, lua.MultRet, nil)
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
		fn, err = lua54.Load(L, skipShebang(bufio.NewReader(stdin)), "stdin")
	} else {
		luabind.AddScriptPath(L, path)
		f, openErr := openScript(path)
		if openErr != nil {
			return fmt.Errorf("cannot open %s", path)
		}
		defer f.Close()
		if file, ok := f.(*os.File); ok {
			if st, err := file.Stat(); err == nil && st.IsDir() {
				return fmt.Errorf("cannot read %s: Is a directory", path)
			}
		}
		b, readErr := io.ReadAll(f)
		if readErr != nil {
			return fmt.Errorf("cannot read %s: %v", path, readErr)
		}
		s.sources[path] = string(b)
		fn, err = lua54.Load(L, skipShebang(bufio.NewReader(bytes.NewReader(b))), path)
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
	fmt.Fprintf(s.stderr, "udplab: %s\n", s.errorMessage(err))
}

// errorMessage is errorText with the culprit of a call or an index named, as PUC Lua names it,
// from the source of the chunk the error is in.
func (s *Session) errorMessage(err error) string {
	msg := errorText(err)
	if chunk, _, ok := strings.Cut(msg, ":"); ok {
		if src, ok := s.sources[chunk]; ok {
			return lua54.NameCulprit(s.L, msg, src)
		}
	}
	return msg
}

// errorText is the message of a Lua error: its text, or what kind of value it is when it is
// not a string or a number.
func errorText(err error) string {
	apiErr, ok := err.(*lua.ApiError)
	if !ok {
		return err.Error()
	}
	switch apiErr.Object.Type() {
	case lua.LTString, lua.LTNumber:
	default:
		return "(error object is a " + apiErr.Object.Type().String() + " value)"
	}
	return strings.TrimSpace(lua.LVAsString(apiErr.Object))
}

// setStdin makes io.read (and the scripts run() runs) read r.
func (s *Session) setStdin(r io.Reader) {
	s.stdinSource = r
	s.rt.SetStdin(r)
}
