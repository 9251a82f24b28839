package lua

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	glua "github.com/yuin/gopher-lua"
)

// The argument checks of PUC Lua's auxiliary library (luaL_argerror, luaL_typeerror,
// luaL_checkinteger, ...), for the functions of this package and of the packages that bind Go to
// Lua on top of it: each raises "bad argument #n to 'name' (...)" as lauxlib.c words it.

// ArgError raises PUC Lua's "bad argument #n to 'fname' (msg)".
func ArgError(L *glua.LState, fname string, n int, msg string) {
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fname, msg)
}

// TypeError raises "bad argument #n to 'fname' (want expected, got <type of argument n>)".
func TypeError(L *glua.LState, fname string, n int, want string) {
	ArgError(L, fname, n, fmt.Sprintf("%s expected, got %s", want, TypeName(L, n)))
}

// TypeName names argument n as luaL_typeerror does: "no value" when it is absent, the
// metatable's __name for a userdata or table that has one, else the Lua type.
func TypeName(L *glua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	v := L.Get(n)
	switch v.Type() {
	case glua.LTUserData, glua.LTTable:
		if name, ok := L.GetMetaField(v, "__name").(glua.LString); ok {
			return string(name)
		}
	}
	return v.Type().String()
}

// CheckInt returns argument n as an integer: a number with an integral value, or a string that
// reads as one, as luaL_checkinteger accepts.
func CheckInt(L *glua.LState, fname string, n int) int {
	switch v := L.Get(n).(type) {
	case glua.LNumber:
		return toInt(L, fname, n, float64(v))
	case glua.LString:
		if f, err := ParseNumber(string(v)); err == nil {
			return toInt(L, fname, n, f)
		}
	}
	TypeError(L, fname, n, "number")
	return 0
}

// toInt is f as an integer, or the error luaL_checkinteger raises for argument n.
func toInt(L *glua.LState, fname string, n int, f float64) int {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		ArgError(L, fname, n, "number has no integer representation")
	}
	return int(f)
}

// CheckNumber returns argument n as a number: a number, or a string that reads as one.
func CheckNumber(L *glua.LState, fname string, n int) float64 {
	switch v := L.Get(n).(type) {
	case glua.LNumber:
		return float64(v)
	case glua.LString:
		if f, err := ParseNumber(string(v)); err == nil {
			return f
		}
	}
	TypeError(L, fname, n, "number")
	return 0
}

// CheckString returns argument n as a string; a number is converted as Lua writes it, as
// luaL_checklstring does.
func CheckString(L *glua.LState, fname string, n int) string {
	switch v := L.Get(n).(type) {
	case glua.LString:
		return string(v)
	case glua.LNumber:
		return Number(float64(v))
	}
	TypeError(L, fname, n, "string")
	return ""
}

// ParseNumber reads a string as Lua converts one to a number (tonumber): decimal with an optional
// fraction and exponent, or hexadecimal ("0x10", "0x1p4"), with surrounding spaces and a sign;
// not Go's extras ("4_3", "inf", "NaN"). A hexadecimal integer wraps around as Lua's does.
func ParseNumber(s string) (float64, error) {
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

// args are one call's arguments, with the name the call has in Lua, for this package's own
// functions: the checks above without repeating the name.
type args struct {
	L     *glua.LState
	fname string
}

func (a args) argError(n int, msg string)   { ArgError(a.L, a.fname, n, msg) }
func (a args) typeError(n int, want string) { TypeError(a.L, a.fname, n, want) }
func (a args) int(n int) int                { return CheckInt(a.L, a.fname, n) }
func (a args) number(n int) float64         { return CheckNumber(a.L, a.fname, n) }
func (a args) string(n int) string          { return CheckString(a.L, a.fname, n) }
func (a args) toInt(n int, f float64) int   { return toInt(a.L, a.fname, n, f) }

// optInt returns argument n as int does, or def when it is absent or nil.
func (a args) optInt(n int, def int) int {
	if a.L.Get(n) == glua.LNil {
		return def
	}
	return a.int(n)
}

// table returns argument n as a table.
func (a args) table(n int) *glua.LTable {
	if t, ok := a.L.Get(n).(*glua.LTable); ok {
		return t
	}
	a.typeError(n, "table")
	return nil
}
