package lua

import (
	"regexp"
	"strconv"
	"strings"
	"sync"

	glua "github.com/yuin/gopher-lua"
)

// Errors in PUC Lua's words. The message handler of pcall and PCall (pcall.go) calls reword
// while the frames that raised the error can still be seen:
//   - before the message of an error a Go function raised, gopher-lua puts the position of the
//     nearest Lua function; PUC Lua puts the position of the function's caller, and only when
//     that caller is a Lua function (luaL_where(L, 1));
//   - "bad argument #2 to (anonymous)" names the function as PUC Lua's luaL_argerror does: by
//     the name it was called by, its argument numbered without self for a method call ("calling
//     'sub' on bad self"), or, called from Go (pcall), by the name it has in a loaded module;
//   - runtime errors name their culprit (culprit.go).
// error and assert are PUC Lua's: error's level counts frames as Lua does (gopher-lua's level 2
// was PUC Lua's 1), and error() with no value raises nil.

var badArgument = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^bad argument #(\d+) to ('[^']*'|main chunk|\S+) \((.*)\)$`)
})

// registryKey is where Open keeps its Runtime in the Lua registry, for Load.
const registryKey = "lua54.runtime"

// runtimeOf is the Runtime Open installed in L, or nil.
func runtimeOf(L *glua.LState) *Runtime {
	if ud, ok := L.G.Registry.RawGetString(registryKey).(*glua.LUserData); ok {
		if rt, ok := ud.Value.(*Runtime); ok {
			return rt
		}
	}
	return nil
}

// luaFunction is the Lua function running at dbg, with dbg's source and current line filled
// in; nil for a Go function. (GetInfo's What says "main" for any function at the bottom of a
// thread, a Go one included.)
func luaFunction(L *glua.LState, dbg *glua.Debug) *glua.LFunction {
	fn, err := L.GetInfo("fSl", dbg, glua.LNil)
	if f, ok := fn.(*glua.LFunction); err == nil && ok && !f.IsG {
		return f
	}
	return nil
}

// luaFrame is the first Lua function from level on, and its level; ok is false when there is
// none.
func luaFrame(L *glua.LState, level int) (dbg *glua.Debug, at int, ok bool) {
	for ; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return nil, 0, false
		}
		if luaFunction(L, dbg) != nil {
			return dbg, level, true
		}
	}
}

// where is PUC Lua's luaL_where(L, level): "chunk:line: " for a Lua function at level, else "".
func where(L *glua.LState, level int) string {
	dbg, ok := L.GetStack(level)
	if !ok || luaFunction(L, dbg) == nil || dbg.CurrentLine <= 0 {
		return ""
	}
	return dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": "
}

// reword says msg, an error being raised on L (level 1 is the function that raised it), as PUC
// Lua would.
func (rt *Runtime) reword(L *glua.LState, msg string) string {
	msg = strings.TrimPrefix(msg, " ") // gopher-lua's position, empty, and its space
	dbg, level, ok := luaFrame(L, 1)
	if !ok {
		return rt.rewordArgument(L, msg, "")
	}
	if msg == "lua callstack overflow" || msg == "registry overflow" { // a Go panic of gopher-lua's
		return where(L, level) + "stack overflow"
	}
	prefix := dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": "
	body, had := strings.CutPrefix(msg, prefix)
	if !had {
		return msg
	}
	if level > 1 { // a Go function raised it: its caller's position is PUC Lua's only when level is 2
		return rt.rewordArgument(L, body, prefix)
	}
	var c *chunk
	if rt.sources != nil {
		c = rt.sources[dbg.Source]
	}
	return prefix + rewordRuntime(L, c, frameScope(L, dbg), dbg.CurrentLine, body)
}

// rewordArgument words body, an error raised by the Go function at level 1 and put after the
// position gopher-lua gave (prefix), as luaL_argerror would.
func (rt *Runtime) rewordArgument(L *glua.LState, body, prefix string) string {
	pos := where(L, 2)
	if prefix != "" && pos == "" {
		prefix = "" // called from Go: PUC Lua gives no position
	}
	m := badArgument().FindStringSubmatch(body)
	if m == nil {
		if strings.HasPrefix(body, "concatenate") || strings.HasPrefix(body, "attempt to concatenate") {
			return prefix + rt.rewordConcat(L, body)
		}
		return prefix + body
	}
	n, _ := strconv.Atoi(m[1])
	detail := m[3]
	if strings.HasSuffix(detail, ", got nil") && n > argumentsOf(L) {
		detail = strings.TrimSuffix(detail, "nil") + "no value" // gopher-lua's TypeError says nil
	}
	name, method := calledAs(L)
	if name == "" {
		name = globalFuncName(L)
	}
	if method {
		n--
		if n == 0 {
			return pos + "calling '" + name + "' on bad self (" + detail + ")"
		}
	}
	return pos + "bad argument #" + strconv.Itoa(n) + " to '" + name + "' (" + detail + ")"
}

// argumentsOf is how many arguments the Go function at level 1 was called with, as its stack
// shows them when it raises an error at its start: gopher-lua's GetLocal calls each value on a
// Go function's stack a "(*temporary)", and the error's message is the last of them.
func argumentsOf(L *glua.LState) int {
	dbg, ok := L.GetStack(1)
	if !ok {
		return 0
	}
	n := 0
	for ; ; n++ {
		if name, _ := L.GetLocal(dbg, n+1); name == "" {
			break
		}
	}
	return max(n-1, 0)
}

// rewordConcat words an error of the concatenation function (concat.go), raised at level 1
// from the Lua function at level 2.
func (rt *Runtime) rewordConcat(L *glua.LState, body string) string {
	dbg, ok := L.GetStack(2)
	if !ok || luaFunction(L, dbg) == nil {
		return body
	}
	var c *chunk
	if rt.sources != nil {
		c = rt.sources[dbg.Source]
	}
	return rewordRuntime(L, c, frameScope(L, dbg), dbg.CurrentLine, body)
}

// calledAs is the name the Go function at level 1 was called by from the Lua function at level
// 2, and whether the call was a method call (obj:name()); "" when it was not called from Lua
// or by a name.
func calledAs(L *glua.LState) (string, bool) {
	callee, ok := L.GetStack(1)
	if !ok {
		return "", false
	}
	caller, ok := L.GetStack(2)
	if !ok {
		return "", false
	}
	f := luaFunction(L, caller)
	if f == nil {
		return "", false
	}
	if _, err := L.GetInfo("n", callee, glua.LNil); err != nil || callee.Name == "" || callee.Name == "?" ||
		strings.HasPrefix(callee.Name, "(") || strings.HasPrefix(callee.Name, "<") {
		return "", false
	}
	return callee.Name, methodCallAt(f.Proto, caller.CurrentLine, callee.Name)
}

// Opcodes' fields, as gopher-lua encodes them.
func opcode(inst uint32) int { return int(inst >> 26) }
func argA(inst uint32) int   { return int(inst>>18) & 0xff }

// methodCallAt says whether the calls named name on line of p are method calls: their function
// register was set by OP_SELF.
func methodCallAt(p *glua.FunctionProto, line int, name string) bool {
	for _, call := range p.DbgCalls {
		if call.Name != name || call.Pc >= len(p.DbgSourcePositions) || p.DbgSourcePositions[call.Pc] != line {
			continue
		}
		a := argA(p.Code[call.Pc])
		for pc := call.Pc - 1; pc >= 0; pc-- {
			if inst := p.Code[pc]; argA(inst) == a && opcode(inst) != glua.OP_CALL {
				return opcode(inst) == glua.OP_SELF
			}
		}
	}
	return false
}

// globalFuncName is the name of the function at level 1 in a loaded module ("string.rep", or
// "print" for one of _G), as PUC Lua's pushglobalfuncname finds it, "?" when it has none.
func globalFuncName(L *glua.LState) string {
	dbg, ok := L.GetStack(1)
	if !ok {
		return "?"
	}
	fn, err := L.GetInfo("f", dbg, glua.LNil)
	if err != nil {
		return "?"
	}
	loaded, ok := L.GetField(L.Get(glua.RegistryIndex), "_LOADED").(*glua.LTable)
	if !ok {
		return "?"
	}
	var names []string
	loaded.ForEach(func(modName, mod glua.LValue) {
		t, ok := mod.(*glua.LTable)
		if !ok {
			return
		}
		t.ForEach(func(k, v glua.LValue) {
			if s, ok := k.(glua.LString); ok && v == fn {
				if modName.String() == "_G" {
					names = append(names, string(s))
				} else {
					names = append(names, modName.String()+"."+string(s))
				}
			}
		})
	})
	if len(names) == 0 {
		return "?"
	}
	best := names[0] // the shortest, then the first in order: the same one every time
	for _, n := range names[1:] {
		if len(n) < len(best) || len(n) == len(best) && n < best {
			best = n
		}
	}
	return best
}

// rewordAfter says msg as PUC Lua would once the error unwound the thread L (a coroutine it
// ended): its culprit is looked for among the globals. A call stack that overflowed (gopher-lua
// panics on a coroutine's) is a stack overflow where the deepest Lua function stopped.
func (rt *Runtime) rewordAfter(L *glua.LState, msg string) string {
	msg = strings.TrimPrefix(msg, " ")
	if msg == "lua callstack overflow" {
		if dbg, _, ok := luaFrame(L, 0); ok {
			return dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": stack overflow"
		}
		return "stack overflow"
	}
	pos := position().FindStringSubmatch(msg)
	if pos == nil || rt.sources == nil {
		return msg
	}
	c, ok := rt.sources[pos[1]]
	if !ok {
		return msg
	}
	line, _ := strconv.Atoi(pos[2])
	return pos[0] + rewordRuntime(L, c, nil, line, msg[len(pos[0]):])
}

// errorCall is error([message[, level]]): a string message gets the position of the function
// at level (1: the caller of error) when it is a Lua function, as in PUC Lua.
func errorCall(L *glua.LState) int {
	v := L.Get(1)
	level := args{L, "error"}.optInt(2, 1)
	if s, ok := v.(glua.LString); ok && level > 0 {
		v = glua.LString(where(L, level) + string(s))
	}
	L.Error(v, 0)
	return 0
}

// setmetatableCall is setmetatable(t, mt), which checks its arguments as Lua 5.4's does
// (gopher-lua's took any value for t).
func setmetatableCall(L *glua.LState) int {
	a := args{L, "setmetatable"}
	t := a.table(1)
	mt := L.Get(2)
	if _, ok := mt.(*glua.LTable); !ok && (mt != glua.LNil || L.GetTop() < 2) {
		a.typeError(2, "nil or table")
	}
	if L.GetMetaField(t, "__metatable") != glua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	L.SetMetatable(t, mt)
	L.SetTop(1)
	return 1
}

// assertCall is assert(v[, message, ...]): v and the rest when v is true, else error(message),
// "assertion failed!" by default.
func assertCall(L *glua.LState) int {
	if L.GetTop() == 0 {
		args{L, "assert"}.argError(1, "value expected")
	}
	if glua.LVAsBool(L.Get(1)) {
		return L.GetTop()
	}
	if L.GetTop() < 2 {
		L.Error(glua.LString(where(L, 1)+"assertion failed!"), 0)
	}
	msg := L.Get(2)
	if s, ok := msg.(glua.LString); ok {
		msg = glua.LString(where(L, 1) + string(s))
	}
	L.Error(msg, 0)
	return 0
}
