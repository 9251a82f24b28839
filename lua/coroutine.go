package lua

import (
	glua "github.com/yuin/gopher-lua"
)

// The coroutine library as Lua 5.4 has it, on gopher-lua's threads:
//   - a coroutine's thread starts with small stacks that grow (newFactory): gopher-lua gave each
//     a full-size one, 100 kB, which made creating one 80 times slower than in lua5.4;
//   - resume runs the coroutine under its resumer's context (so that a coroutine made by an
//     earlier console line still runs, and Ctrl-C reaches it), at most maxCCalls deep ("C stack
//     overflow", instead of growing until memory runs out), and answers as Lua 5.4 does
//     ("cannot resume dead coroutine");
//   - yield refuses to cross a Go call (a pcall, a signal handler run by a blocked call, a
//     __tostring), which gopher-lua cannot resume and crashes on;
//   - status, running, isyieldable and close see through pcall's helper threads (pcall.go).

// maxCCalls is PUC Lua's LUAI_MAXCCALLS: how deep coroutine resumes, and pcalls, may nest.
const maxCCalls = 200

// coroutineFailed marks a coroutine that died of an error: its thread keeps the mark and the
// error on its stack, for coroutine.close.
var coroutineFailed = glua.LString("\x00coroutine failed")

// installCoroutines replaces L's coroutine library with this one.
func (rt *Runtime) installCoroutines(L *glua.LState) {
	co, ok := L.GetGlobal("coroutine").(*glua.LTable)
	if !ok {
		return
	}
	create, ok1 := co.RawGetString("create").(*glua.LFunction)
	resume, ok2 := co.RawGetString("resume").(*glua.LFunction)
	if !ok1 || !ok2 {
		return
	}
	rt.coCreate, rt.coResume = create.GFunction, resume.GFunction
	rt.trampoline, _ = L.LoadString("local f = ... return function(...) return f(...) end")
	L.SetFuncs(co, map[string]glua.LGFunction{
		"create":      rt.createCall,
		"resume":      rt.resumeCall,
		"wrap":        rt.wrapCall,
		"yield":       rt.yieldCall,
		"status":      rt.statusCall,
		"running":     rt.runningCall,
		"isyieldable": rt.isyieldableCall,
		"close":       rt.closeCall,
	})
}

// newCoroutine makes a coroutine of fn, with gopher-lua's create run on the factory, whose
// threads are small. A Go function runs under a Lua one: gopher-lua runs a Go function at the
// bottom of a coroutine without returning to its resumer.
func (rt *Runtime) newCoroutine(fn *glua.LFunction) *glua.LState {
	f := rt.factory
	if fn.IsG {
		f.Push(rt.trampoline)
		f.Push(fn)
		f.Call(1, 1)
		fn = f.Get(-1).(*glua.LFunction)
		f.Pop(1)
	}
	f.SetTop(0)
	f.Push(fn)
	rt.coCreate(f)
	th := f.Get(-1).(*glua.LState)
	f.SetTop(0)
	return th
}

func (rt *Runtime) createCall(L *glua.LState) int {
	fn, ok := L.Get(1).(*glua.LFunction)
	if !ok {
		args{L, "create"}.typeError(1, "function")
	}
	L.Push(rt.newCoroutine(fn))
	return 1
}

// checkCoroutine returns argument 1 as a coroutine.
func checkCoroutine(L *glua.LState, fname string) *glua.LState {
	th, ok := L.Get(1).(*glua.LState)
	if !ok {
		args{L, fname}.typeError(1, "thread")
	}
	return th
}

func (rt *Runtime) resumeCall(L *glua.LState) int {
	return rt.resume(L, checkCoroutine(L, "resume"))
}

// resume resumes co, which is at L's index 1, with the values above it: it leaves on L true and
// what co yields or returns, or false and its error, and returns how many.
func (rt *Runtime) resume(L *glua.LState, co *glua.LState) int {
	fail := func(msg string) int {
		L.SetTop(0)
		L.Push(glua.LFalse)
		L.Push(glua.LString(msg))
		return 2
	}
	switch {
	case co.Dead:
		return fail("cannot resume dead coroutine")
	case rt.status(L, co) != "suspended":
		return fail("cannot resume non-suspended coroutine")
	case rt.resumeDepth >= maxCCalls:
		return fail("C stack overflow")
	}
	nilResults(co)
	if ctx := L.Context(); ctx != nil {
		co.SetContext(ctx)
	} else if co.Context() != nil {
		co.RemoveContext()
	}
	current := L.G.CurrentThread
	rt.resumeDepth++
	n := rt.coResume(L)
	rt.resumeDepth--
	L.G.CurrentThread = current // not the helper, when pcall's helper resumed co
	L.Remove(1)
	if L.Get(1) == glua.LFalse {
		if s, ok := L.Get(2).(glua.LString); ok {
			L.Replace(2, glua.LString(rt.rewordAfter(co, string(s))))
		}
		co.Push(coroutineFailed)
		co.Push(L.Get(2))
	}
	return n
}

// nilResults makes nil the registers of co's suspended frame above its top: gopher-lua gives
// the values a coroutine is resumed with to the coroutine.yield call as its results, and leaves
// the results beyond them as they were, Go's nil (which takes the process down when read) where
// Lua has nil. Lua's Pop, unlike SetTop, leaves Lua's nil behind it.
func nilResults(co *glua.LState) {
	dbg, ok := co.GetStack(0)
	if !ok {
		return // not started: the arguments are the function's parameters, which it fills
	}
	fn, _ := co.GetInfo("f", dbg, glua.LNil)
	f, ok := fn.(*glua.LFunction)
	if !ok || f.Proto == nil {
		return
	}
	n := int(f.Proto.NumUsedRegisters)
	for i := 0; i < n; i++ {
		co.Push(glua.LNil)
	}
	co.Pop(n)
}

func (rt *Runtime) wrapCall(L *glua.LState) int {
	fn, ok := L.Get(1).(*glua.LFunction)
	if !ok {
		args{L, "wrap"}.typeError(1, "function")
	}
	L.Push(L.NewClosure(rt.wrapped, rt.newCoroutine(fn)))
	return 1
}

// wrapped is the function coroutine.wrap returns: it resumes its coroutine, returns what it
// yields or returns, and raises its error (a message with the caller's position before it, as
// Lua 5.4's auxwrap does).
func (rt *Runtime) wrapped(L *glua.LState) int {
	co := L.Get(glua.UpvalueIndex(1)).(*glua.LState)
	L.Insert(co, 1)
	rt.resume(L, co)
	if L.Get(1) == glua.LFalse {
		if msg, ok := L.Get(2).(glua.LString); ok {
			L.RaiseError("%s", string(msg))
		}
		L.Error(L.Get(2), 0)
	}
	L.Remove(1)
	return L.GetTop()
}

// yieldable says whether L's code can yield, and if not, the error Lua gives.
func (rt *Runtime) yieldable(L *glua.LState) (bool, string) {
	if h := rt.currentHelper(L); h != nil {
		if h.owner.Parent == nil {
			return false, "attempt to yield from outside a coroutine"
		}
		return false, "attempt to yield across a C-call boundary"
	}
	if L.Parent == nil {
		return false, "attempt to yield from outside a coroutine"
	}
	for level := 1; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("S", dbg, glua.LNil); err == nil && dbg.What == "G" {
			return false, "attempt to yield across a C-call boundary"
		}
	}
	return true, ""
}

// yieldCall is coroutine.yield(...): gopher-lua's, once yieldable says it can.
func (rt *Runtime) yieldCall(L *glua.LState) int {
	if ok, msg := rt.yieldable(L); !ok {
		L.RaiseError("%s", msg)
	}
	return -1
}

func (rt *Runtime) isyieldableCall(L *glua.LState) int {
	ok, _ := rt.yieldable(L)
	L.Push(glua.LBool(ok))
	return 1
}

// status is coroutine.status(co) asked from L: L's own thread is the running one, or, on a
// helper, the thread that called pcall; a coroutine that resumed the running one, directly or
// through a pcall, is normal.
func (rt *Runtime) status(L *glua.LState, co *glua.LState) string {
	if co.Dead {
		return "dead"
	}
	running := rt.running(L)
	if co == running {
		return "running"
	}
	for t := running; t.Parent != nil; {
		t = rt.ownerOf(t.Parent)
		if t == co {
			return "normal"
		}
	}
	return "suspended"
}

// running is the thread whose code runs on L.
func (rt *Runtime) running(L *glua.LState) *glua.LState {
	if cur := L.G.CurrentThread; cur != nil {
		return cur
	}
	return rt.ownerOf(L)
}

func (rt *Runtime) statusCall(L *glua.LState) int {
	L.Push(glua.LString(rt.status(L, checkCoroutine(L, "status"))))
	return 1
}

// runningCall is coroutine.running(): the running coroutine, and whether it is the main one.
func (rt *Runtime) runningCall(L *glua.LState) int {
	co := rt.running(L)
	L.Push(co)
	L.Push(glua.LBool(co == L.G.MainThread || co.Parent == nil))
	return 2
}

// closeCall is coroutine.close(co): a suspended or dead coroutine is dead after it; true, or
// false and the error it died of.
func (rt *Runtime) closeCall(L *glua.LState) int {
	co := checkCoroutine(L, "close")
	switch status := rt.status(L, co); status {
	case "running", "normal":
		L.RaiseError("cannot close a %s coroutine", status)
	}
	co.Dead = true
	if co.GetTop() >= 2 && co.Get(-2) == coroutineFailed {
		L.Push(glua.LFalse)
		L.Push(co.Get(-1))
		co.Pop(2)
		return 2
	}
	L.Push(glua.LTrue)
	return 1
}
