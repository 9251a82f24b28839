package lua

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// Lua 5.4 writes a float with "%.14g" and an integer with "%d"; gopher-lua writes both as Go
// does (0.30000000000000004, +Inf). Number is Lua's rule, and every place a number becomes text
// goes through it: tostring, print, .., io.write, string.format's %s, table.concat, the string
// functions given a number, and ToString for the programs built on this package.

// maxExactInt is 2^63: below it in magnitude, an integral float64 is an int64.
const maxExactInt = 1 << 63

// Number is f as Lua 5.4's tostring writes it: an integral value as an integer (gopher-lua has no
// integer subtype, so 3.0 is 3), else "%.14g", with ".0" when that looks like an integer, and
// inf, -inf, nan and -nan as C's printf writes them.
func Number(f float64) string {
	switch {
	case f == math.Trunc(f) && f >= -maxExactInt && f < maxExactInt && !(f == 0 && math.Signbit(f)):
		return strconv.FormatInt(int64(f), 10)
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	}
	s := numberG(f)
	if strings.Trim(s, "-0123456789") == "" {
		s += ".0" // a float that looks like an integer, as lua_Number2str leaves none
	}
	return s
}

// numberG is f as io.write writes it: an integral value as an integer, else C's "%.14g" alone
// (io.write(-0.0) writes -0, tostring -0.0).
func numberG(f float64) string {
	switch {
	case f == math.Trunc(f) && f >= -maxExactInt && f < maxExactInt && !(f == 0 && math.Signbit(f)):
		return strconv.FormatInt(int64(f), 10)
	case math.IsInf(f, 0) || math.IsNaN(f):
		return Number(f)
	}
	s := cStyleG(math.Abs(f), 14, false)
	if math.Signbit(f) {
		s = "-" + s
	}
	return s
}

// ToString is Lua 5.4's tostring(v) (luaL_tolstring): __tostring's answer, which must be a
// string; "NAME: 0x..." for a table or userdata whose metatable has a __name; numbers as Number
// writes them; else gopher-lua's text.
func ToString(L *glua.LState, v glua.LValue) string {
	switch v := v.(type) {
	case glua.LString:
		return string(v)
	case glua.LNumber:
		return Number(float64(v))
	case *glua.LNilType, glua.LBool:
		return v.String()
	}
	if fn := L.GetMetaField(v, "__tostring"); fn != glua.LNil {
		L.Push(fn)
		L.Push(v)
		L.Call(1, 1)
		s, ok := asString(L.Get(-1))
		L.Pop(1)
		if !ok {
			L.RaiseError("'__tostring' must return a string")
		}
		return s
	}
	if name, ok := L.GetMetaField(v, "__name").(glua.LString); ok {
		switch v.(type) {
		case *glua.LTable, *glua.LUserData:
			return fmt.Sprintf("%s: %p", string(name), v)
		}
	}
	return v.String()
}

// asString is v as Lua converts a string or a number to a string (lua_tolstring), and whether
// it can.
func asString(v glua.LValue) (string, bool) {
	switch v := v.(type) {
	case glua.LString:
		return string(v), true
	case glua.LNumber:
		return Number(float64(v)), true
	}
	return "", false
}

// tostringCall is tostring(v).
func tostringCall(L *glua.LState) int {
	if L.GetTop() == 0 {
		args{L, "tostring"}.argError(1, "value expected")
	}
	L.Push(glua.LString(ToString(L, L.Get(1))))
	return 1
}

// tonumberCall is tonumber(v[, base]): a numeral as Load reads one, or, with a base, an integer
// in that base (letters for the digits past 9), as Lua 5.4's does.
func tonumberCall(L *glua.LState) int {
	a := args{L, "tonumber"}
	if L.Get(2) == glua.LNil {
		switch v := L.Get(1).(type) {
		case glua.LNumber:
			L.Push(v)
		case glua.LString:
			if f, err := ParseNumber(string(v)); err == nil {
				L.Push(glua.LNumber(f))
			} else {
				L.Push(glua.LNil)
			}
		default:
			if L.GetTop() == 0 {
				a.argError(1, "value expected")
			}
			L.Push(glua.LNil)
		}
		return 1
	}
	base := a.int(2)
	s, ok := L.Get(1).(glua.LString)
	if !ok {
		a.typeError(1, "string")
	}
	if base < 2 || base > 36 {
		a.argError(2, "base out of range")
	}
	L.Push(integerInBase(strings.Trim(string(s), " \t\n\r\f\v"), base))
	return 1
}

// integerInBase reads s as an integer in base (wrapping around as Lua's does), nil when it is
// not one.
func integerInBase(s string, base int) glua.LValue {
	negative := strings.HasPrefix(s, "-")
	if negative {
		s = s[1:]
	}
	if s == "" {
		return glua.LNil
	}
	var n uint64
	for _, c := range strings.ToLower(s) {
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case c >= 'a' && c <= 'z':
			d = int(c-'a') + 10
		default:
			return glua.LNil
		}
		if d >= base {
			return glua.LNil
		}
		n = n*uint64(base) + uint64(d)
	}
	v := float64(int64(n))
	if negative {
		v = -v
	}
	return glua.LNumber(v)
}

// stringArgs says which arguments of each string function are strings, which a number given
// there becomes as Number writes it (gopher-lua's would write it as Go does).
var stringArgs = map[string][]int{
	"byte": {1}, "len": {1}, "lower": {1}, "reverse": {1}, "sub": {1}, "upper": {1},
}

// numbersAsLuaWrites wraps gopher-lua's string functions so that a number given where a
// string is expected is converted as Lua converts it.
func numbersAsLuaWrites(L *glua.LState, str *glua.LTable) {
	for name, positions := range stringArgs {
		orig, ok := str.RawGetString(name).(*glua.LFunction)
		if !ok || !orig.IsG {
			continue
		}
		fn, positions := orig.GFunction, positions
		upvalues := make([]glua.LValue, len(orig.Upvalues)) // gmatch's iterator is one
		for i, uv := range orig.Upvalues {
			upvalues[i] = uv.Value()
		}
		str.RawSetString(name, L.NewClosure(func(L *glua.LState) int {
			for _, i := range positions {
				if n, ok := L.Get(i).(glua.LNumber); ok {
					L.Replace(i, glua.LString(Number(float64(n))))
				}
			}
			return fn(L)
		}, upvalues...))
	}
}
