package luabind

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// argError raises PUC Lua's standard "bad argument #n to 'fname' (msg)".
func argError(L *lua.LState, n int, fname, msg string) {
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fname, msg)
}

// typeError raises "bad argument #n to 'fname' (want expected, got <type of argument n>)".
func typeError(L *lua.LState, n int, fname, want string) {
	argError(L, n, fname, fmt.Sprintf("%s expected, got %s", want, typeName(L, n)))
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

// checkInt returns argument n as an integer: a number with an integral value, or a string that
// reads as one, as luaL_checkinteger accepts.
func checkInt(L *lua.LState, n int, fname string) int {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		return numberToInt(L, n, fname, float64(v))
	case lua.LString:
		if f, err := parseNumber(string(v)); err == nil {
			return numberToInt(L, n, fname, f)
		}
	}
	typeError(L, n, fname, "number")
	return 0
}

func numberToInt(L *lua.LState, n int, fname string, f float64) int {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		argError(L, n, fname, "number has no integer representation")
	}
	return int(f)
}

func parseNumber(s string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(s), 64)
}

// optInt returns argument n as checkInt does, or def when it is absent or nil.
func optInt(L *lua.LState, n int, fname string, def int) int {
	if L.Get(n) == lua.LNil {
		return def
	}
	return checkInt(L, n, fname)
}

// checkNumber returns argument n as a number.
func checkNumber(L *lua.LState, n int, fname string) float64 {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if f, err := parseNumber(string(v)); err == nil {
			return f
		}
	}
	typeError(L, n, fname, "number")
	return 0
}

// checkString returns argument n as a string; a number is converted, as luaL_checklstring does.
func checkString(L *lua.LState, n int, fname string) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	typeError(L, n, fname, "string")
	return ""
}

// checkTable returns argument n as a table.
func checkTable(L *lua.LState, n int, fname string) *lua.LTable {
	if t, ok := L.Get(n).(*lua.LTable); ok {
		return t
	}
	typeError(L, n, fname, "table")
	return nil
}
