package luabind

import (
	lua "github.com/yuin/gopher-lua"
)

// Lua's files can be buffered (io.stdout:setvbuf("full"), a file from io.open); gopher-lua
// flushes them only when asked, so output would be lost at os.exit, fatal, an error or the end
// of a script. The runtime keeps the files a script opens and flushes them all on every way out.

// maxTrackedFiles is how many files are kept before the closed ones are dropped.
const maxTrackedFiles = 256

// trackFiles wraps io.open and io.popen so that the files they open are flushed at exit.
func (rt *Runtime) trackFiles(L *lua.LState) {
	ioTable, ok := L.GetGlobal("io").(*lua.LTable)
	if !ok {
		return
	}
	for _, name := range []string{"open", "popen"} {
		open := ioTable.RawGetString(name)
		if open == lua.LNil {
			continue
		}
		ioTable.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			top := L.GetTop()
			L.Insert(open, 1)
			L.Call(top, lua.MultRet)
			if f, ok := L.Get(1).(*lua.LUserData); ok {
				rt.keepFile(L, f)
			}
			return L.GetTop()
		}))
	}
}

// keepFile remembers f, dropping the closed files once there are many.
func (rt *Runtime) keepFile(L *lua.LState, f *lua.LUserData) {
	if len(rt.files) >= maxTrackedFiles {
		open := rt.files[:0]
		for _, kept := range rt.files {
			if fileState(L, kept) == "file" {
				open = append(open, kept)
			}
		}
		rt.files = open
	}
	rt.files = append(rt.files, f)
}

// fileState is io.type(f): "file", "closed file", or "" when it cannot be told.
func fileState(L *lua.LState, f lua.LValue) string {
	ioType := L.GetField(L.GetGlobal("io"), "type")
	if ioType == lua.LNil {
		return ""
	}
	if err := L.CallByParam(lua.P{Fn: ioType, NRet: 1, Protect: true}, f); err != nil {
		return ""
	}
	defer L.Pop(1)
	return lua.LVAsString(L.Get(-1))
}

// FlushFiles flushes Lua's standard output and error, the default output and every file the
// script opened and has not closed. It must run on the Lua state's goroutine; errors are ignored
// (a closed file, a full disk: nothing more can be done on the way out).
func (rt *Runtime) FlushFiles(L *lua.LState) {
	ioTable, ok := L.GetGlobal("io").(*lua.LTable)
	if !ok {
		return
	}
	files := []lua.LValue{ioTable.RawGetString("stdout"), ioTable.RawGetString("stderr")}
	if output := ioTable.RawGetString("output"); output != lua.LNil {
		if L.CallByParam(lua.P{Fn: output, NRet: 1, Protect: true}) == nil {
			files = append(files, L.Get(-1))
			L.Pop(1)
		}
	}
	for _, f := range rt.files {
		files = append(files, f)
	}
	for _, f := range files {
		if fileState(L, f) != "file" {
			continue
		}
		if flush := L.GetField(f, "flush"); flush != lua.LNil {
			L.CallByParam(lua.P{Fn: flush, NRet: 0, Protect: true}, f)
		}
	}
}
