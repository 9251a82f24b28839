package lua

import (
	glua "github.com/yuin/gopher-lua"
)

// gopher-lua loses writes through upvalues after a caught error (its issue #448): an error
// raised with no message handler closes the open upvalues of every frame of the thread, those
// of the frames pcall's caller still runs in included, so that a closure goes on reading a copy
// of a local its function goes on writing. With a message handler it closes none, not even
// those of the frames the error unwinds, whose registers the next call reuses. PUC Lua closes
// the upvalues of the unwound frames, and only those.
//
// So pcall and xpcall run their function on a thread of their own (a helper, kept for the next
// call at the same depth), where an error can reach no frame but those it unwinds. They catch it
// with a message handler, which words the message as PUC Lua does while the frames that raised
// it can still be seen, runs xpcall's handler, then closes every upvalue of the helper, with the
// values they have at that moment, as PUC Lua closes those of the frames it unwinds. PCall does
// the same for a program's own top-level call, where every frame unwinds.

// helper is a thread pcall runs functions on.
type helper struct {
	th      *glua.LState
	owner   *glua.LState // the thread (main or coroutine) whose code called pcall
	handler glua.LValue  // xpcall's message handler; nil for pcall
}

// newFactory makes a thread of L's that makes threads (gopher-lua's NewThread gives a new thread
// the options of the thread it is called on): with a data stack that starts small and grows, and
// a call stack that does so too when growing is true. Its own context is removed, so that the
// threads it makes do not each register a child context with L's: they get their caller's
// context each time they run.
func newFactory(L *glua.LState, growing bool) *glua.LState {
	f, _ := L.NewThread()
	f.RemoveContext()
	opts := L.Options
	opts.RegistryMaxSize = max(opts.RegistryMaxSize, opts.RegistrySize)
	opts.RegistrySize, opts.RegistryGrowStep = 64, 256
	opts.MinimizeStackMemory = growing
	f.Options = opts
	return f
}

// installProtect sets up what pcall needs in L: the factories of threads, the message handler.
// A coroutine's thread has a call stack that grows (gopher-lua's full-size one made every
// coroutine cost 100 kB); a helper, made once per depth, a full-size one, on which a stack
// overflow is Lua's error rather than gopher-lua's panic.
func (rt *Runtime) installProtect(L *glua.LState) {
	rt.factory = newFactory(L, true)
	rt.helperFactory = newFactory(L, false)
	rt.msgh = L.NewFunction(rt.messageHandler)
	L.SetGlobal("pcall", L.NewFunction(rt.pcallCall))
	L.SetGlobal("xpcall", L.NewFunction(rt.xpcallCall))
}

// pcallCall is pcall(f, ...).
func (rt *Runtime) pcallCall(L *glua.LState) int {
	if L.GetTop() == 0 {
		args{L, "pcall"}.argError(1, "value expected")
	}
	return rt.protect(L, nil)
}

// xpcallCall is xpcall(f, msgh, ...).
func (rt *Runtime) xpcallCall(L *glua.LState) int {
	handler, ok := L.Get(2).(*glua.LFunction)
	if !ok {
		args{L, "xpcall"}.typeError(2, "function")
	}
	L.Remove(2)
	return rt.protect(L, handler)
}

// protect calls the function at L's index 1 with the values above it on a helper: it leaves
// true and the function's results on L, or false and the error (handled by handler).
func (rt *Runtime) protect(L *glua.LState, handler glua.LValue) int {
	if fn := L.Get(1); !callable(L, fn) {
		L.SetTop(0)
		L.Push(glua.LFalse)
		L.Push(glua.LString("attempt to call a " + fn.Type().String() + " value"))
		return 2
	}
	if rt.depth >= maxCCalls {
		L.SetTop(0)
		L.Push(glua.LFalse)
		L.Push(glua.LString("C stack overflow"))
		return 2
	}
	if rt.depth == len(rt.helpers) {
		th, _ := rt.helperFactory.NewThread()
		rt.helpers = append(rt.helpers, &helper{th: th})
	}
	h := rt.helpers[rt.depth]
	h.owner, h.handler = rt.ownerOf(L), handler
	th := h.th
	if ctx := L.Context(); ctx != nil {
		th.SetContext(ctx)
	} else if th.Context() != nil {
		th.RemoveContext()
	}
	n := L.GetTop()
	for i := 1; i <= n; i++ {
		th.Push(L.Get(i))
	}
	L.SetTop(0)
	rt.depth++
	err := th.PCall(n-1, glua.MultRet, rt.msgh)
	rt.depth--
	h.owner, h.handler = nil, nil
	if err != nil {
		th.SetTop(0)
		L.Push(glua.LFalse)
		L.Push(errorValue(err))
		return 2
	}
	L.Push(glua.LTrue)
	results := th.GetTop()
	for i := 1; i <= results; i++ {
		L.Push(th.Get(i))
	}
	th.SetTop(0)
	return results + 1
}

// errorValue is the Lua value an error of PCall carries.
func errorValue(err error) glua.LValue {
	if apiErr, ok := err.(*glua.ApiError); ok {
		return apiErr.Object
	}
	return glua.LString(err.Error())
}

// messageHandler is the handler protect and PCall catch errors with: it words the message as PUC
// Lua does (reword), hands it to xpcall's handler, if any, then closes L's upvalues.
func (rt *Runtime) messageHandler(L *glua.LState) int {
	v := L.Get(1)
	if s, ok := v.(glua.LString); ok {
		v = glua.LString(rt.reword(L, string(s)))
	}
	if h := rt.currentHelper(L); h != nil && h.handler != nil {
		L.Push(h.handler)
		L.Push(v)
		L.Call(1, 1)
		v = L.Get(-1)
	}
	closeUpvalues(L)
	L.Push(v)
	return 1
}

// closing is the panic closeUpvalues raises and catches.
type closing struct{}

// closeUpvalues closes every open upvalue of L with the value it has now. gopher-lua closes them
// all when an error is raised while no message handler runs, as is the case in a message handler
// (PCall clears the mark before it calls one): so it raises one, which its own Panic hook turns
// into a panic caught here, before the error can unwind a frame.
func closeUpvalues(L *glua.LState) {
	saved := L.Panic
	L.Panic = func(*glua.LState) { panic(closing{}) }
	defer func() {
		L.Panic = saved
		switch r := recover().(type) {
		case nil:
		case closing:
			L.Pop(1) // the error value Error pushed
		default:
			panic(r)
		}
	}()
	L.Error(glua.LNil, 0)
}

// currentHelper is the helper th is, or nil.
func (rt *Runtime) currentHelper(th *glua.LState) *helper {
	for i := rt.depth - 1; i >= 0; i-- {
		if rt.helpers[i].th == th {
			return rt.helpers[i]
		}
	}
	return nil
}

// ownerOf is the thread whose code runs on th: th, or the caller of the pcall that th is the
// helper of.
func (rt *Runtime) ownerOf(th *glua.LState) *glua.LState {
	if h := rt.currentHelper(th); h != nil {
		return h.owner
	}
	return th
}

// PCall calls the function below the nargs values on top of L's stack as lua_pcall does with a
// message handler: the error's message is worded as PUC Lua words it, and its StackTrace holds
// the traceback taken where it was raised. Unlike gopher-lua's PCall, it leaves no upvalue of the
// unwound frames open and closes no other. nret is the number of results, or glua.MultRet.
func (rt *Runtime) PCall(L *glua.LState, nargs, nret int) error {
	base := L.GetTop() - nargs - 1
	var trace string
	handler := L.NewFunction(func(L *glua.LState) int {
		rt.messageHandler(L)
		trace = traceback(L)
		return 1
	})
	err := L.PCall(nargs, nret, handler)
	if err == nil {
		return nil
	}
	L.SetTop(base)
	apiErr, ok := err.(*glua.ApiError)
	if !ok {
		return err
	}
	apiErr.StackTrace = trace
	return apiErr
}

// traceback is debug.traceback's text for the stack L has under the message handler and itself.
func traceback(L *glua.LState) string {
	dbg, ok := L.GetGlobal("debug").(*glua.LTable)
	if !ok {
		return ""
	}
	fn := dbg.RawGetString("traceback")
	if fn == glua.LNil {
		return ""
	}
	L.Push(fn)
	L.Push(glua.LNil)
	L.Push(glua.LNumber(2))
	L.Call(2, 1)
	s := L.Get(-1).String()
	L.Pop(1)
	return s
}
