package luabind

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// args are one call's arguments, with the name the call has in Lua: its checks raise PUC Lua's
// "bad argument #n to 'name' (...)" without each binding repeating its name. It is passed by
// value, so making one costs no allocation.
type args struct {
	L     *lua.LState
	fname string
}

// argError raises PUC Lua's standard "bad argument #n to 'fname' (msg)".
func (a args) argError(n int, msg string) {
	a.L.RaiseError("bad argument #%d to '%s' (%s)", n, a.fname, msg)
}

// typeError raises "bad argument #n to 'fname' (want expected, got <type of argument n>)".
func (a args) typeError(n int, want string) {
	a.argError(n, fmt.Sprintf("%s expected, got %s", want, typeName(a.L, n)))
}

// typeName names argument n as PUC Lua's luaL_typeerror does: "no value" when it is absent, the
// metatable's __name for a userdata or table that has one, else the Lua type.
func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	v := L.Get(n)
	switch v.Type() {
	case lua.LTUserData, lua.LTTable:
		if name, ok := L.GetMetaField(v, "__name").(lua.LString); ok {
			return string(name)
		}
	}
	return v.Type().String()
}

// int returns argument n as an integer: a number with an integral value, or a string that reads
// as one, as luaL_checkinteger accepts.
func (a args) int(n int) int {
	switch v := a.L.Get(n).(type) {
	case lua.LNumber:
		return a.toInt(n, float64(v))
	case lua.LString:
		if f, err := parseNumber(string(v)); err == nil {
			return a.toInt(n, f)
		}
	}
	a.typeError(n, "number")
	return 0
}

func (a args) toInt(n int, f float64) int {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		a.argError(n, "number has no integer representation")
	}
	return int(f)
}

func parseNumber(s string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

// optInt returns argument n as int does, or def when it is absent or nil.
func (a args) optInt(n int, def int) int {
	if a.L.Get(n) == lua.LNil {
		return def
	}
	return a.int(n)
}

// number returns argument n as a number.
func (a args) number(n int) float64 {
	switch v := a.L.Get(n).(type) {
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if f, err := parseNumber(string(v)); err == nil {
			return f
		}
	}
	a.typeError(n, "number")
	return 0
}

// string returns argument n as a string; a number is converted, as luaL_checklstring does.
func (a args) string(n int) string {
	switch v := a.L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	a.typeError(n, "string")
	return ""
}

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
