package lua

import (
	"math"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// The parts of gopher-lua's standard library that could take the process down, or answer
// otherwise than Lua does, replaced or wrapped here: string.rep and table.concat check the
// memory they ask for; io (iolib.go), string.format (format.go), pcall (pcall.go) and the
// coroutine library (coroutine.go) are PUC Lua's.

// installStdlib replaces and wraps the standard functions above in L.
func (rt *Runtime) installStdlib(L *glua.LState) {
	if m, ok := L.GetGlobal("math").(*glua.LTable); ok {
		m.RawSetString("huge", glua.LNumber(math.Inf(1))) // gopher-lua's is the largest finite float
		m.RawSetString("log", L.NewFunction(logCall))
	}
	L.SetGlobal("tostring", L.NewFunction(tostringCall))
	L.SetGlobal("tonumber", L.NewFunction(tonumberCall))
	if str, ok := L.GetGlobal("string").(*glua.LTable); ok {
		numbersAsLuaWrites(L, str)
		str.RawSetString("rep", L.NewFunction(rt.repCall))
		str.RawSetString("format", L.NewFunction(formatCall))
	}
	if tbl, ok := L.GetGlobal("table").(*glua.LTable); ok {
		tbl.RawSetString("concat", L.NewFunction(rt.tableConcatCall))
	}
	rt.installIO(L)
	rt.installCoroutines(L)
}

// repCall is string.rep(s, n[, sep]), refusing a result larger than the memory budget.
func (rt *Runtime) repCall(L *glua.LState) int {
	a := args{L, "rep"}
	s, n := a.string(1), a.int(2)
	sep := ""
	if L.Get(3) != glua.LNil {
		sep = a.string(3)
	}
	unit := int64(len(s) + len(sep))
	if n <= 0 || unit == 0 {
		L.Push(glua.LString(""))
		return 1
	}
	if unit > 0 && int64(n) > math.MaxInt64/unit {
		L.RaiseError("resulting string too large")
	}
	size := unit*int64(n) - int64(len(sep))
	rt.Reserve(L, size)
	var b strings.Builder
	b.Grow(int(size))
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	L.Push(glua.LString(b.String()))
	return 1
}

// tableConcatCall is table.concat(t[, sep[, i[, j]]]): it sizes the result before building it.
func (rt *Runtime) tableConcatCall(L *glua.LState) int {
	a := args{L, "concat"}
	t := a.table(1)
	sep := ""
	if L.Get(2) != glua.LNil {
		sep = a.string(2)
	}
	i, j := a.optInt(3, 1), 0
	if L.Get(4) == glua.LNil {
		j = t.Len()
	} else {
		j = a.int(4)
	}
	if i > j {
		L.Push(glua.LString(""))
		return 1
	}
	if j-i >= math.MaxInt32 {
		L.RaiseError("%s", ErrNoMemory.Error())
	}
	size := int64(len(sep)) * int64(j-i)
	for k := i; k <= j; k++ {
		switch v := t.RawGetInt(k).(type) {
		case glua.LString:
			size += int64(len(v))
		case glua.LNumber:
			size += int64(len(Number(float64(v))))
		default:
			L.RaiseError("invalid value (%s) at index %d in table for 'concat'", v.Type().String(), k)
		}
	}
	rt.Reserve(L, size)
	var b strings.Builder
	b.Grow(int(size))
	for k := i; k <= j; k++ {
		if k > i {
			b.WriteString(sep)
		}
		s, _ := asString(t.RawGetInt(k))
		b.WriteString(s)
	}
	L.Push(glua.LString(b.String()))
	return 1
}

// logCall is math.log(x[, base]): gopher-lua's ignores the base.
func logCall(L *glua.LState) int {
	a := args{L, "log"}
	x := a.number(1)
	var r float64
	switch {
	case L.Get(2) == glua.LNil:
		r = cNaN(math.Log(x))
	case a.number(2) == 2:
		r = cNaN(math.Log2(x))
	case a.number(2) == 10:
		r = math.Log10(x) // glibc's log10 gives a positive NaN
	default:
		r = cNaN(math.Log(x) / math.Log(a.number(2)))
	}
	L.Push(glua.LNumber(r))
	return 1
}
