package luabind

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

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

// parseNumber reads a string as Lua converts one to a number (tonumber): decimal with an optional
// fraction and exponent, or hexadecimal ("0x10", "0x1p4"), with surrounding spaces and a sign;
// not Go's extras ("4_3", "inf", "NaN"). A hexadecimal integer wraps around as Lua's does.
func parseNumber(s string) (float64, error) {
	s = strings.Trim(s, " \t\n\r\f\v")
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || !luaNumeral().MatchString(body) {
		return 0, strconv.ErrSyntax
	}
	negative := strings.HasPrefix(s, "-")
	if hexInt().MatchString(body) {
		var u uint64
		for _, c := range body[2:] {
			d, _ := strconv.ParseUint(string(c), 16, 8)
			u = u<<4 | d
		}
		v := float64(int64(u))
		if negative {
			v = -v
		}
		return v, nil
	}
	if strings.HasPrefix(strings.ToLower(body), "0x") && !strings.ContainsAny(body, "pP") {
		body += "p0" // Go wants the exponent of a hexadecimal float
	}
	f, err := strconv.ParseFloat(body, 64)
	if negative {
		f = -f
	}
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, err
	}
	return f, nil
}

var (
	luaNumeral = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)$`)
	})
	hexInt = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^0[xX][0-9a-fA-F]+$`) })
)

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
