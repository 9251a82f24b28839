package lua

import (
	"math"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// The parts of gopher-lua's standard library that could take the process down, or answer
// otherwise than Lua does, replaced or wrapped here: string.rep and table.concat check the
// memory they ask for; io (iolib.go) and string.format (format.go) are PUC Lua's;
// coroutine.resume and wrap stop at PUC Lua's nesting limit, and run a coroutine under its
// resumer's context;
// coroutine.yield refuses to cross a Go call, as Lua refuses to cross a C call.

// maxCCalls is PUC Lua's LUAI_MAXCCALLS: how deep coroutine resumes may nest.
const maxCCalls = 200

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
	if co, ok := L.GetGlobal("coroutine").(*glua.LTable); ok {
		create, resume := co.RawGetString("create"), co.RawGetString("resume")
		resumeFn := L.NewFunction(func(L *glua.LState) int { return rt.resume(L, resume) })
		co.RawSetString("resume", resumeFn)
		co.RawSetString("yield", L.NewFunction(rt.yieldCall))
		co.RawSetString("wrap", L.NewFunction(func(L *glua.LState) int {
			if _, ok := L.Get(1).(*glua.LFunction); !ok {
				args{L, "wrap"}.typeError(1, "function")
			}
			L.Push(create)
			L.Push(L.Get(1))
			L.Call(1, 1)
			L.Push(L.NewClosure(func(L *glua.LState) int { return rt.wrapped(L, resumeFn) }, L.Get(-1)))
			return 1
		}))
	}
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
			L.RaiseError("invalid value (at index %d) in table for 'concat'", k)
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

// resume is coroutine.resume(co, ...): gopher-lua's, run under the resumer's context (so that a
// coroutine made by an earlier console line still runs, and Ctrl-C reaches it), and at most
// maxCCalls deep: deeper, it fails with "C stack overflow" as PUC Lua does, instead of growing
// until memory runs out.
func (rt *Runtime) resume(L *glua.LState, resume glua.LValue) int {
	th, ok := L.Get(1).(*glua.LState)
	if !ok {
		args{L, "resume"}.typeError(1, "coroutine")
	}
	if rt.resumeDepth >= maxCCalls {
		L.Push(glua.LFalse)
		L.Push(glua.LString("C stack overflow"))
		return 2
	}
	if ctx := L.Context(); ctx != nil {
		th.SetContext(ctx)
	} else if th.Context() != nil {
		th.RemoveContext()
	}
	rt.resumeDepth++
	defer func() { rt.resumeDepth-- }()
	top := L.GetTop()
	L.Insert(resume, 1)
	L.Call(top, glua.MultRet)
	return L.GetTop()
}

// wrapped is the function coroutine.wrap returns: it resumes its coroutine, returns what it
// yields or returns, and raises its error.
func (rt *Runtime) wrapped(L *glua.LState, resume *glua.LFunction) int {
	top := L.GetTop()
	L.Insert(L.Get(glua.UpvalueIndex(1)), 1)
	L.Insert(resume, 1)
	L.Call(top+1, glua.MultRet)
	if L.Get(1) == glua.LFalse {
		if msg, ok := L.Get(2).(glua.LString); ok {
			L.RaiseError("%s", string(msg))
		}
		L.Error(L.Get(2), 0)
	}
	L.Remove(1)
	return L.GetTop()
}

// yieldCall is coroutine.yield(...): as gopher-lua's, but refusing to yield from the main thread
// or from below a Go function (a signal handler run by a blocked recv, a __tostring, a pcall),
// which gopher-lua cannot resume and crashes on.
func (rt *Runtime) yieldCall(L *glua.LState) int {
	if h := rt.currentHelper(L); h != nil {
		if h.owner.Parent == nil {
			L.RaiseError("attempt to yield from outside a coroutine")
		}
		L.RaiseError("attempt to yield across a C-call boundary")
	}
	if L.Parent == nil {
		L.RaiseError("attempt to yield from outside a coroutine")
	}
	for level := 1; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("S", dbg, glua.LNil); err == nil && dbg.What == "G" {
			L.RaiseError("attempt to yield across a C-call boundary")
		}
	}
	return -1
}

// logCall is math.log(x[, base]): gopher-lua's ignores the base.
func logCall(L *glua.LState) int {
	a := args{L, "log"}
	x := a.number(1)
	var r float64
	switch {
	case L.Get(2) == glua.LNil:
		r = math.Log(x)
	case a.number(2) == 2:
		r = math.Log2(x)
	case a.number(2) == 10:
		r = math.Log10(x)
	default:
		r = math.Log(x) / math.Log(a.number(2))
	}
	L.Push(glua.LNumber(r))
	return 1
}
