package lua

import (
	"math"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// More of Lua 5.4's library where gopher-lua's answered otherwise, each as lstrlib.c, lmathlib.c
// and lbaselib.c do it: string.byte and string.sub (string.byte("abc") gave every byte, a
// position of 1.5 was taken as 1), math.atan with its second argument, math.fmod (an integral
// divisor of 0 is an error), math.modf, math.min and math.max (any values Lua can compare),
// select, string.dump's answer, and string.pack, unpack and packsize (pack.go).

// install54More puts the functions above in L's libraries.
func (rt *Runtime) install54More(L *glua.LState) {
	if s, ok := L.GetGlobal("string").(*glua.LTable); ok {
		L.SetFuncs(s, map[string]glua.LGFunction{
			"byte": strByte, "sub": strSub, "dump": strDump,
			"pack": rt.packCall, "unpack": unpackCall, "packsize": packsizeCall,
		})
	}
	if m, ok := L.GetGlobal("math").(*glua.LTable); ok {
		L.SetFuncs(m, map[string]glua.LGFunction{
			"atan": mathAtan, "fmod": mathFmod, "modf": mathModf,
			"sin": trig("sin", math.Sin), "cos": trig("cos", math.Cos), "tan": trig("tan", math.Tan),
			"max": func(L *glua.LState) int { return compareAll(L, "max", false) },
			"min": func(L *glua.LState) int { return compareAll(L, "min", true) },
		})
	}
	L.SetGlobal("select", L.NewFunction(selectCall))
}

// endAt is lstrlib.c's getendpos: the 1-based last position pos gives in a string of length n.
func endAt(pos, n int) int {
	switch {
	case pos > n:
		return n
	case pos >= 0:
		return pos
	case pos < -n:
		return 0
	}
	return n + pos + 1
}

// strByte is string.byte(s[, i[, j]]): the codes of s[i..j], j being i unless given.
func strByte(L *glua.LState) int {
	a := args{L, "byte"}
	s := a.string(1)
	pi := a.optInt(2, 1)
	first := startAt(pi, len(s)) + 1
	last := endAt(a.optInt(3, pi), len(s))
	if first > last {
		return 0
	}
	if last-first >= maxUnpack {
		L.RaiseError("string slice too long")
	}
	pushMany(L, "stack overflow (string slice too long)", func() {
		for k := first; k <= last; k++ {
			L.Push(glua.LNumber(s[k-1]))
		}
	})
	return last - first + 1
}

// strSub is string.sub(s, i[, j]).
func strSub(L *glua.LState) int {
	a := args{L, "sub"}
	s := a.string(1)
	first := startAt(a.int(2), len(s)) + 1
	last := endAt(a.optInt(3, -1), len(s))
	if first > last {
		L.Push(glua.LString(""))
	} else {
		L.Push(glua.LString(s[first-1 : last]))
	}
	return 1
}

// strDump is string.dump(f): Lua 5.4 refuses a C function with these words; here every function
// is refused so, as gopher-lua has no binary chunks.
func strDump(L *glua.LState) int {
	if _, ok := L.Get(1).(*glua.LFunction); !ok {
		args{L, "dump"}.typeError(1, "function")
	}
	L.RaiseError("unable to dump given function")
	return 0
}

// mathAtan is math.atan(y[, x]): the angle of (x, y), x being 1 unless given.
func mathAtan(L *glua.LState) int {
	a := args{L, "atan"}
	y, x := a.number(1), 1.0
	if L.Get(2) != glua.LNil {
		x = a.number(2)
	}
	L.Push(glua.LNumber(math.Atan2(y, x)))
	return 1
}

// isInteger says whether v is a number with an integer's value: what Lua 5.4 would hold as an
// integer.
func isInteger(v glua.LValue) (int64, bool) {
	n, ok := v.(glua.LNumber)
	f := float64(n)
	if !ok || f != math.Trunc(f) || f < -maxExactInt || f >= maxExactInt {
		return 0, false
	}
	return int64(f), true
}

// mathFmod is math.fmod(x, y): for integers, the remainder of the division rounded towards zero
// (a zero divisor is an error); else C's fmod.
func mathFmod(L *glua.LState) int {
	a := args{L, "fmod"}
	x, xok := isInteger(L.Get(1))
	d, dok := isInteger(L.Get(2))
	if xok && dok {
		if d == 0 {
			a.argError(2, "zero")
		}
		L.Push(glua.LNumber(x % d))
		return 1
	}
	// lmathlib.c passes luaL_checknumber(L, 1) and (L, 2) to fmod, which gcc evaluates last
	// to first: lua5.4 names a bad second argument before a bad first one
	y := a.number(2)
	L.Push(glua.LNumber(cNaN(math.Mod(a.number(1), y))))
	return 1
}

// negativeNaN is the NaN an invalid operation gives on x86-64 (its sign bit set), which glibc's
// fmod, sin, cos, tan and log return for a domain error and Lua prints as "-nan"; Go's math
// functions return a positive one.
var negativeNaN = math.Copysign(math.NaN(), -1)

// cNaN is r, a NaN as glibc would return it.
func cNaN(r float64) float64 {
	if math.IsNaN(r) {
		return negativeNaN
	}
	return r
}

// trig is math.sin, math.cos or math.tan: f, with glibc's NaN for an infinite angle.
func trig(name string, f func(float64) float64) glua.LGFunction {
	return func(L *glua.LState) int {
		L.Push(glua.LNumber(cNaN(f(args{L, name}.number(1)))))
		return 1
	}
}

// mathModf is math.modf(x): its integral part (rounded towards zero) and its fraction, 0 for an
// integral or infinite x.
func mathModf(L *glua.LState) int {
	n := args{L, "modf"}.number(1)
	ip := math.Trunc(n)
	frac := 0.0
	if n != ip {
		frac = n - ip
	}
	if ip == 0 {
		ip = 0 // an integer: no -0
	}
	L.Push(glua.LNumber(ip))
	L.Push(glua.LNumber(frac))
	return 2
}

// compareAll is math.min (least true) or math.max: the argument that Lua's < puts first or
// last, for any values it compares (numbers, strings, values with __lt).
func compareAll(L *glua.LState, name string, least bool) int {
	n := L.GetTop()
	if n < 1 {
		args{L, name}.argError(1, "value expected")
	}
	best := 1
	for i := 2; i <= n; i++ {
		if least && lessThan(L, L.Get(i), L.Get(best)) || !least && lessThan(L, L.Get(best), L.Get(i)) {
			best = i
		}
	}
	L.Push(L.Get(best))
	return 1
}

// lessThan is a < b as Lua 5.4 compares and words its error ("attempt to compare two nil
// values", "attempt to compare table with number", the types by their __name).
func lessThan(L *glua.LState, a, b glua.LValue) bool {
	ta, tb := a.Type(), b.Type()
	if ta == tb && (ta == glua.LTNumber || ta == glua.LTString) {
		return L.LessThan(a, b)
	}
	// the first operand's __lt, else the second's (gopher-lua wants both to have the same one,
	// as Lua 5.1 did)
	if r, ok := callBinaryMeta(L, "__lt", a, b); ok {
		return glua.LVAsBool(r)
	}
	na, nb := objTypeName(L, a), objTypeName(L, b)
	if na == nb {
		L.RaiseError("attempt to compare two %s values", na)
	}
	L.RaiseError("attempt to compare %s with %s", na, nb)
	return false
}

// objTypeName is luaT_objtypename: the __name of v's metatable when it is a string, else v's
// type.
func objTypeName(L *glua.LState, v glua.LValue) string {
	if name, ok := L.GetMetaField(v, "__name").(glua.LString); ok {
		return string(name)
	}
	return v.Type().String()
}

// selectCall is select(n, ...): the arguments after the n-th (from the end when n is negative),
// or select("#", ...), how many there are.
func selectCall(L *glua.LState) int {
	n := L.GetTop()
	if s, ok := L.Get(1).(glua.LString); ok && len(s) > 0 && s[0] == '#' {
		L.Push(glua.LNumber(n - 1))
		return 1
	}
	i := CheckInt(L, "select", 1)
	if i < 0 {
		i = n + i
	} else if i > n {
		i = n
	}
	if i < 1 {
		ArgError(L, "select", 1, "index out of range")
	}
	return n - i
}

// pushMany runs push, which pushes many results on L's stack, and turns an overflow of the
// stack into Lua 5.4's error, msg ("stack overflow (too many results)"), raised with the stack
// as it was before.
// Left to gopher-lua, the overflow's own error found the stack full again while pcall caught it,
// and took the process down.
func pushMany(L *glua.LState, msg string, push func()) {
	top := L.GetTop()
	overflow := false
	func() {
		defer func() {
			if r := recover(); r != nil {
				if e, ok := r.(*glua.ApiError); ok && strings.HasSuffix(e.Object.String(), "registry overflow") {
					overflow = true
					return
				}
				panic(r)
			}
		}()
		push()
	}()
	if overflow {
		L.SetTop(top)
		L.RaiseError("%s", msg)
	}
}
