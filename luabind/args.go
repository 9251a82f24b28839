package luabind

import (
	"math"

	lua "github.com/yuin/gopher-lua"

	lua54 "github.com/udplab/udplab/lua"
)

// args are one call's arguments, with the name the call has in Lua: its checks raise PUC Lua's
// "bad argument #n to 'name' (...)" without each binding repeating its name. It is passed by
// value, so making one costs no allocation.
type args struct {
	L     *lua.LState
	fname string
}

// argError raises PUC Lua's standard "bad argument #n to 'fname' (msg)".
func (a args) argError(n int, msg string) { lua54.ArgError(a.L, a.fname, n, msg) }

// typeError raises "bad argument #n to 'fname' (want expected, got <type of argument n>)".
func (a args) typeError(n int, want string) { lua54.TypeError(a.L, a.fname, n, want) }

// int returns argument n as an integer, as luaL_checkinteger does.
func (a args) int(n int) int { return lua54.CheckInt(a.L, a.fname, n) }

// cint returns argument n as an integer that fits a C int, as the system calls take their
// family, type, level, option and flags; past it, the kernel would see other bits than the
// script gave.
func (a args) cint(n int) int {
	v := a.int(n)
	if v < math.MinInt32 || v > math.MaxInt32 {
		a.argError(n, "number out of range")
	}
	return v
}

// optCint returns argument n as cint does, or def when it is absent or nil.
func (a args) optCint(n int, def int) int {
	if a.L.Get(n) == lua.LNil {
		return def
	}
	return a.cint(n)
}

// optInt returns argument n as int does, or def when it is absent or nil.
func (a args) optInt(n int, def int) int {
	if a.L.Get(n) == lua.LNil {
		return def
	}
	return a.int(n)
}

// number returns argument n as a number.
func (a args) number(n int) float64 { return lua54.CheckNumber(a.L, a.fname, n) }

// string returns argument n as a string; a number is converted, as luaL_checklstring does.
func (a args) string(n int) string { return lua54.CheckString(a.L, a.fname, n) }

// table returns argument n as a table.
func (a args) table(n int) *lua.LTable {
	if t, ok := a.L.Get(n).(*lua.LTable); ok {
		return t
	}
	a.typeError(n, "table")
	return nil
}

// socket returns the socket at argument n.
func (a args) socket(n int) *socket {
	if ud, ok := a.L.Get(n).(*lua.LUserData); ok {
		if s, ok := ud.Value.(*socket); ok {
			return s
		}
	}
	a.typeError(n, "socket")
	return nil
}
