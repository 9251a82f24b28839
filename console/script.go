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
	fn, err := lua54.Load(s.L, strings.NewReader(src), "=<string>")
	if err != nil {
		return err
	}
	s.L.Push(fn)
	return s.rt.PCall(s.L, 0, lua.MultRet)
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
		fn, err = lua54.Load(L, skipShebang(bufio.NewReader(stdin)), "=stdin")
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
		fn, err = lua54.Load(L, skipShebang(bufio.NewReader(bytes.NewReader(b))), "@"+path)
	}
	if err != nil {
		return err
	}
	L.Push(fn)
	for _, a := range args {
		L.Push(lua.LString(a))
	}
	return s.rt.PCall(L, len(args), lua.MultRet)
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
// from the source of the chunk the error is in, and the name that may have been meant.
func (s *Session) errorMessage(err error) string {
	msg := s.errorText(err)
	if chunk, _, ok := strings.Cut(msg, ":"); ok {
		if src, ok := s.sources[chunk]; ok {
			return lua54.NameCulprit(s.L, msg, src)
		}
	}
	return msg
}

// errorText is the message of a Lua error as lua(1) shows it: its text; for another value, what
// its __tostring says, or what kind of value it is.
func (s *Session) errorText(err error) string {
	apiErr, ok := err.(*lua.ApiError)
	if !ok {
		return err.Error()
	}
	switch v := apiErr.Object.(type) {
	case lua.LString:
		return strings.TrimSpace(string(v))
	case lua.LNumber:
		return lua54.Number(float64(v))
	}
	if s.L.GetMetaField(apiErr.Object, "__tostring") != lua.LNil {
		s.L.Push(s.L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LString(lua54.ToString(L, apiErr.Object)))
			return 1
		}))
		if s.rt.PCall(s.L, 0, 1) == nil {
			text := s.L.Get(-1).String()
			s.L.Pop(1)
			return text
		}
	}
	return "(error object is a " + apiErr.Object.Type().String() + " value)"
}

// setStdin makes io.read (and the scripts run() runs) read r.
func (s *Session) setStdin(r io.Reader) {
	s.stdinSource = r
	s.rt.SetStdin(r)
}
