package lua

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// gopher-lua's runtime errors say "attempt to call a non-function object", "__len undefined",
// "cannot perform add operation between nil and number"; PUC Lua 5.4 says "attempt to call a
// nil value (global 'sokcet')", "attempt to get length of a nil value (local 'x')", "attempt to
// perform arithmetic on a nil value (field 'n')". The VM leaves no trace of which operand it
// was, so the finder here reads the chunk's source: the expressions of that kind on the error's
// line, the first whose value (looked up in the frame that raised the error, when it can still
// be seen, else among the globals) is the one the error is about. Then, for a console,
// NameCulprit offers the nearest name there is ("did you mean socket?").

// runtimeErrors are gopher-lua's messages that rewordRuntime words as PUC Lua does.
var runtimeErrors = sync.OnceValue(func() map[string]*regexp.Regexp {
	return map[string]*regexp.Regexp{
		"call":    regexp.MustCompile(`^attempt to call a non-function object$`),
		"index":   regexp.MustCompile(`^attempt to index a non-table object\((\w+)\) with key '(.*)'$`),
		"len":     regexp.MustCompile(`^__len undefined$`),
		"unm":     regexp.MustCompile(`^__unm undefined$`),
		"arith":   regexp.MustCompile(`^cannot perform (\w+) operation between (\w+) and (\w+)$`),
		"concat":  regexp.MustCompile(`^attempt to concatenate a (\w+) value$`),
		"compare": regexp.MustCompile(`^attempt to compare (\w+) with (\w+)$`),
		"for":     regexp.MustCompile(`^for statement (init|limit|step) must be a number$`),
	}
})

// arithOperators are the source operators of gopher-lua's operation names.
var arithOperators = map[string]string{"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "pow": "^"}

// scope is what names meant where an error was raised: the locals and upvalues of the function
// that raised it, with their values. Without one (the frame is gone), a name the chunk declares
// local anywhere is taken for a local of unknown value, any other for a global.
type scope struct {
	locals, upvalues map[string]glua.LValue
}

// frameScope reads the scope of the Lua function at dbg, whose current line is known.
// gopher-lua's GetLocal misses a local whose life starts at the current instruction (it takes
// the instruction itself for before it), and calls its register "(*temporary)": such a register
// is named here from the locals that start on the current line.
func frameScope(L *glua.LState, dbg *glua.Debug) *scope {
	sc := &scope{locals: map[string]glua.LValue{}, upvalues: map[string]glua.LValue{}}
	fn, _ := L.GetInfo("f", dbg, glua.LNil)
	f, _ := fn.(*glua.LFunction)
	for i := 1; ; i++ {
		name, v := L.GetLocal(dbg, i)
		if name == "" {
			break
		}
		if name == "(*temporary)" && f != nil && f.Proto != nil {
			name = startingLocal(f, i, dbg.CurrentLine)
		}
		if name != "" {
			sc.locals[name] = v
		}
	}
	if f != nil {
		if !f.IsG {
			for i := 1; i <= len(f.Upvalues); i++ {
				name, v := L.GetUpvalue(f, i)
				if _, local := sc.locals[name]; name != "" && !local {
					sc.upvalues[name] = v
				}
			}
		}
	}
	return sc
}

// startingLocal is the name register regno has at an instruction of line where a local's life
// starts, "" when it has none.
func startingLocal(f *glua.LFunction, regno, line int) string {
	for pc, l := range f.Proto.DbgSourcePositions {
		if l == line {
			if name, ok := f.LocalName(regno, pc+1); ok {
				return name
			}
		}
	}
	return ""
}

// finder looks for a culprit in one chunk.
type finder struct {
	L        *glua.LState
	sc       *scope          // nil: the frame is gone
	declared map[string]bool // names declared local anywhere in the chunk, for when sc is nil
}

// eval is the value of e now, when it can be known without calling anything but __index tables.
func (f *finder) eval(e ast.Expr) (glua.LValue, bool) {
	switch e := e.(type) {
	case *ast.IdentExpr:
		if f.sc != nil {
			if v, ok := f.sc.locals[e.Value]; ok {
				return v, true
			}
			if v, ok := f.sc.upvalues[e.Value]; ok {
				return v, true
			}
		} else if f.declared[e.Value] {
			return glua.LNil, false
		}
		return f.L.GetGlobal(e.Value), true
	case *ast.AttrGetExpr:
		obj, known := f.eval(e.Object)
		if !known {
			return glua.LNil, false
		}
		switch k := e.Key.(type) {
		case *ast.StringExpr:
			return rawLookup(f.L, obj, glua.LString(k.Value))
		case *ast.NumberExpr:
			if n, err := ParseNumber(k.Value); err == nil {
				return rawLookup(f.L, obj, glua.LNumber(n))
			}
		}
	case *ast.StringExpr:
		return glua.LString(e.Value), true
	case *ast.NumberExpr:
		if n, err := ParseNumber(e.Value); err == nil {
			return glua.LNumber(n), true
		}
	case *ast.NilExpr:
		return glua.LNil, true
	case *ast.TrueExpr:
		return glua.LTrue, true
	case *ast.FalseExpr:
		return glua.LFalse, true
	case *ast.TableExpr:
		return &glua.LTable{}, true
	case *ast.FunctionExpr:
		return &glua.LFunction{}, true
	}
	return glua.LNil, false
}

// typeOf is the type name of e's value, "" when it cannot be known.
func (f *finder) typeOf(e ast.Expr) string {
	if v, ok := f.eval(e); ok {
		return v.Type().String()
	}
	return ""
}

// varinfo names e as PUC Lua's varinfo does: " (global 'x')", " (local 'x')", " (upvalue 'x')",
// " (field 'k')", " (constant 'x')", or "" for an expression with no name.
func (f *finder) varinfo(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.IdentExpr:
		kind := "global"
		if f.sc != nil {
			if _, ok := f.sc.locals[e.Value]; ok {
				kind = "local"
			} else if _, ok := f.sc.upvalues[e.Value]; ok {
				kind = "upvalue"
			}
		} else if f.declared[e.Value] {
			kind = "local"
		}
		return " (" + kind + " '" + e.Value + "')"
	case *ast.AttrGetExpr:
		if k, ok := e.Key.(*ast.StringExpr); ok {
			return " (field '" + k.Value + "')"
		}
		return " (field '?')"
	case *ast.StringExpr:
		return " (constant '" + e.Value + "')"
	}
	return ""
}

// rawLookup is obj[key] through __index tables only (no function is called).
func rawLookup(L *glua.LState, obj glua.LValue, key glua.LValue) (glua.LValue, bool) {
	for depth := 0; depth < 10; depth++ {
		if t, ok := obj.(*glua.LTable); ok {
			if v := t.RawGet(key); v != glua.LNil {
				return v, true
			}
		}
		index := L.GetMetaField(obj, "__index")
		switch index.(type) {
		case *glua.LNilType:
			if _, ok := obj.(*glua.LTable); ok {
				return glua.LNil, true
			}
			return glua.LNil, false
		case *glua.LTable:
			obj = index
		default:
			return glua.LNil, false
		}
	}
	return glua.LNil, false
}

func callable(L *glua.LState, v glua.LValue) bool {
	if _, ok := v.(*glua.LFunction); ok {
		return true
	}
	return L.GetMetaField(v, "__call") != glua.LNil
}

// chunk is a chunk's source, parsed when an error first needs it.
type chunk struct {
	src      string
	once     sync.Once
	tree     []ast.Stmt
	declared map[string]bool
}

func (c *chunk) parsed() ([]ast.Stmt, map[string]bool) {
	c.once.Do(func() {
		if tree, err := parse.Parse(strings.NewReader(c.src), "culprit"); err == nil {
			c.tree, c.declared = tree, localNames(tree)
		}
	})
	return c.tree, c.declared
}

// maxSources bounds the chunks whose source the runtime keeps for its messages.
const maxSources = 64

// keepSource records the source of the chunk named name, the last maxSources of them.
func (rt *Runtime) keepSource(name, src string) {
	if rt.sources == nil {
		rt.sources = map[string]*chunk{}
	}
	if _, ok := rt.sources[name]; !ok {
		rt.sourceOrder = append(rt.sourceOrder, name)
		if len(rt.sourceOrder) > maxSources {
			delete(rt.sources, rt.sourceOrder[0])
			rt.sourceOrder = rt.sourceOrder[1:]
		}
	}
	rt.sources[name] = &chunk{src: src}
}

// rewordRuntime words body, a runtime error of gopher-lua's raised at line of the chunk c, as PUC
// Lua does, naming its culprit when it finds it; other messages are returned as they are.
func rewordRuntime(L *glua.LState, c *chunk, sc *scope, line int, body string) string {
	var kind string
	var m []string
	for k, re := range runtimeErrors() {
		if m = re.FindStringSubmatch(body); m != nil {
			kind = k
			break
		}
	}
	switch kind {
	case "":
		return body
	case "compare":
		if m[1] == m[2] {
			return "attempt to compare two " + m[1] + " values"
		}
		return body
	}
	f := &finder{L: L, sc: sc}
	var tree []ast.Stmt
	if c != nil {
		tree, f.declared = c.parsed()
	}
	var found []culprit
	walkChunk(tree, func(s ast.Stmt) {
		if kind != "for" || s.Line() != line {
			return
		}
		if fs, ok := s.(*ast.NumberForStmt); ok {
			found = append(found, f.forCulprit(fs, m[1])...)
		}
	}, func(e ast.Expr) {
		if e.Line() != line && e.LastLine() != line {
			return
		}
		if c, ok := f.culpritOf(kind, m, e); ok {
			found = append(found, c)
		}
	})
	// a value known to be the wrong one is a better answer than one that cannot be looked up
	sort.SliceStable(found, func(i, j int) bool { return found[i].known && !found[j].known })
	if len(found) > 0 {
		return found[0].message
	}
	switch kind {
	case "call":
		return "attempt to call a nil value"
	case "index":
		return "attempt to index a " + m[1] + " value"
	case "len":
		return "attempt to get length of a nil value"
	case "unm":
		return "attempt to perform arithmetic on a nil value"
	case "arith":
		return "attempt to perform arithmetic on a " + firstNonNumber(m[2], m[3]) + " value"
	case "for":
		return "'for' " + forWords[m[1]] + " must be a number"
	}
	return body
}

// forWords name the values of a numeric for in PUC Lua's messages.
var forWords = map[string]string{"init": "initial value", "limit": "limit", "step": "step"}

// firstNonNumber is the type of the operand an arithmetic error is about.
func firstNonNumber(t1, t2 string) string {
	if t1 == "number" {
		return t2
	}
	return t1
}

// culprit is what an error is about: its message in PUC Lua's words, the name it was called by
// and the names it could have meant (for a suggestion), and whether its value was seen.
type culprit struct {
	message string
	name    string
	known   bool
	nilName bool     // the name held nil: another spelling may be meant
	names   []string // the names there are where name was looked up
}

// culpritOf is e as the culprit of an error of kind (with its submatches m), if it can be.
func (f *finder) culpritOf(kind string, m []string, e ast.Expr) (culprit, bool) {
	switch kind {
	case "call":
		call, ok := e.(*ast.FuncCallExpr)
		if !ok {
			return culprit{}, false
		}
		if call.Receiver != nil {
			c := culprit{name: call.Method}
			typ := "nil"
			if recv, known := f.eval(call.Receiver); known {
				method, _ := rawLookup(f.L, recv, glua.LString(call.Method))
				if callable(f.L, method) {
					return culprit{}, false
				}
				typ, c.known, c.names = method.Type().String(), true, fieldNames(f.L, recv)
			}
			c.nilName = typ == "nil"
			c.message = "attempt to call a " + typ + " value (method '" + call.Method + "')"
			return c, true
		}
		v, known := f.eval(call.Func)
		if known && callable(f.L, v) {
			return culprit{}, false
		}
		typ := "nil"
		if known {
			typ = v.Type().String()
		}
		return f.named(call.Func, "attempt to call a "+typ+" value", known && typ == "nil"), true
	case "index":
		var obj ast.Expr
		switch x := e.(type) {
		case *ast.AttrGetExpr:
			switch k := x.Key.(type) {
			case *ast.StringExpr:
				if k.Value != m[2] {
					return culprit{}, false
				}
			case *ast.NumberExpr:
				if n, err := ParseNumber(k.Value); err != nil || glua.LNumber(n).String() != m[2] {
					return culprit{}, false
				}
			}
			obj = x.Object
		case *ast.FuncCallExpr: // a method call, s:send(...), indexes its receiver
			if x.Receiver == nil || x.Method != m[2] {
				return culprit{}, false
			}
			obj = x.Receiver
		default:
			return culprit{}, false
		}
		typ := f.typeOf(obj)
		if typ != "" && typ != m[1] {
			return culprit{}, false
		}
		return f.named(obj, "attempt to index a "+m[1]+" value", typ == "nil"), true
	case "len":
		op, ok := e.(*ast.UnaryLenOpExpr)
		if !ok {
			return culprit{}, false
		}
		typ := f.typeOf(op.Expr)
		if typ == "table" || typ == "string" {
			return culprit{}, false
		}
		if typ == "" {
			typ = "nil"
		}
		return f.named(op.Expr, "attempt to get length of a "+typ+" value", typ == "nil"), true
	case "unm":
		op, ok := e.(*ast.UnaryMinusOpExpr)
		if !ok {
			return culprit{}, false
		}
		typ := f.typeOf(op.Expr)
		if typ == "number" {
			return culprit{}, false
		}
		if typ == "string" {
			return culprit{message: "attempt to unm a 'string' with a 'string'", known: true}, true
		}
		if typ == "" {
			typ = "nil"
		}
		return f.named(op.Expr, "attempt to perform arithmetic on a "+typ+" value", false), true
	case "arith":
		op, ok := e.(*ast.ArithmeticOpExpr)
		if !ok || op.Operator != arithOperators[m[1]] {
			return culprit{}, false
		}
		t1, t2 := f.typeOf(op.Lhs), f.typeOf(op.Rhs)
		if t1 == "" {
			t1 = m[2]
		}
		if t2 == "" {
			t2 = m[3]
		}
		if t1 == "string" || t2 == "string" {
			return culprit{message: "attempt to " + m[1] + " a '" + t1 + "' with a '" + t2 + "'", known: true}, true
		}
		if t1 != "number" {
			return f.named(op.Lhs, "attempt to perform arithmetic on a "+t1+" value", false), true
		}
		if t2 != "number" {
			return f.named(op.Rhs, "attempt to perform arithmetic on a "+t2+" value", false), true
		}
	case "concat":
		cat, ok := e.(*ast.StringConcatOpExpr)
		if !ok {
			return culprit{}, false
		}
		operands := concatOperands(cat)
		for i := len(operands) - 1; i >= 0; i-- {
			typ := f.typeOf(operands[i])
			if typ == m[1] || typ == "" && m[1] == "nil" {
				return f.named(operands[i], "attempt to concatenate a "+m[1]+" value", false), true
			}
		}
	}
	return culprit{}, false
}

// forCulprit is the value of the numeric for fs that is not a number, as PUC Lua words it.
func (f *finder) forCulprit(fs *ast.NumberForStmt, which string) []culprit {
	e := map[string]ast.Expr{"init": fs.Init, "limit": fs.Limit, "step": fs.Step}[which]
	typ := "nil"
	if e != nil {
		if t := f.typeOf(e); t != "" {
			typ = t
		}
	}
	return []culprit{{message: "bad 'for' " + forWords[which] + " (number expected, got " + typ + ")", known: true}}
}

// named is the culprit e with message, and e's name after it as PUC Lua gives it.
func (f *finder) named(e ast.Expr, message string, nilName bool) culprit {
	c := culprit{message: message + f.varinfo(e), nilName: nilName}
	_, c.known = f.eval(e)
	switch e := e.(type) {
	case *ast.IdentExpr:
		c.name = e.Value
		if strings.Contains(c.message, "(global '") {
			c.names = globalNames(f.L)
		}
	case *ast.AttrGetExpr:
		if k, ok := e.Key.(*ast.StringExpr); ok {
			c.name = k.Value
			if obj, known := f.eval(e.Object); known {
				c.names = fieldNames(f.L, obj)
			}
		}
	}
	return c
}

// concatOperands are the operands of a chain a .. b .. c, left to right.
func concatOperands(e *ast.StringConcatOpExpr) []ast.Expr {
	var out []ast.Expr
	for _, side := range []ast.Expr{e.Lhs, e.Rhs} {
		if inner, ok := side.(*ast.StringConcatOpExpr); ok {
			out = append(out, concatOperands(inner)...)
		} else {
			out = append(out, side)
		}
	}
	return out
}

// position is the "chunk:line:" an error message starts with.
var position = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.*?):(\d+): `) })

// NameCulprit words msg, a runtime error of the chunk whose source is src, as PUC Lua does once
// its frames are gone (locals are of unknown value), then, when its culprit is a name that holds
// nil, adds the nearest name there is: "attempt to call a nil value (global 'sokcet'); did you
// mean socket?". Other messages are returned as they are.
func NameCulprit(L *glua.LState, msg, src string) string {
	if m := nilArgumentError().FindStringSubmatch(msg); m != nil {
		// As Python says: socket(AF_INTE, SOCK_DGRAM) names the misspelt global, and the name meant.
		line, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		if name := nilGlobalArgument(L, src, line, m[4], n); name != "" {
			if best := nearest(name, globalNames(L)); best != "" {
				return m[1] + "global '" + name + "' is nil; did you mean " + best + "?)"
			}
		}
		return msg
	}
	pos := position().FindStringSubmatch(msg)
	if pos == nil {
		return msg
	}
	line, _ := strconv.Atoi(pos[2])
	c := &chunk{src: src}
	body := rewordRuntime(L, c, nil, line, msg[len(pos[0]):])
	return pos[0] + body + suggestion(L, c, line, body)
}

// nilArgumentError is an argument error about a nil: "bad argument #1 to 'socket' (number
// expected, got nil)".
var nilArgumentError = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(.*?:(\d+): bad argument #(\d+) to '([^']+)' \()[^()]* expected, got nil\)$`)
})

// nilGlobalArgument is the name of the global, nil now, passed as argument n to the call of
// fname on line of src ("" when that argument is anything else), numbered as Lua 5.4's messages
// number it (in a method call s:fname(...), from the first argument after the object).
func nilGlobalArgument(L *glua.LState, src string, line int, fname string, n int) string {
	chunk, err := parse.Parse(strings.NewReader(src), "culprit")
	if err != nil {
		return ""
	}
	locals := localNames(chunk)
	found := ""
	walkChunk(chunk, func(ast.Stmt) {}, func(e ast.Expr) {
		call, ok := e.(*ast.FuncCallExpr)
		if !ok || found != "" || call.Line() != line && call.LastLine() != line {
			return
		}
		i := n - 1
		switch f := call.Func.(type) {
		case nil:
			if call.Method != fname {
				return
			}
			// a method call's arguments are numbered from its first after the object, as
			// Lua 5.4 numbers them in its messages
		case *ast.IdentExpr:
			if f.Value != fname {
				return
			}
		case *ast.AttrGetExpr:
			if k, ok := f.Key.(*ast.StringExpr); !ok || k.Value != fname {
				return
			}
		default:
			return
		}
		if i < 0 || i >= len(call.Args) {
			return
		}
		if id, ok := call.Args[i].(*ast.IdentExpr); ok && !locals[id.Value] && L.GetGlobal(id.Value) == glua.LNil {
			found = id.Value
		}
	})
	return found
}

// otherNames are suggestions for names that are not there by any spelling.
var otherNames = map[string]string{"exit": "os.exit", "quit": "os.exit", "printf": "print(string.format(...))"}

// nameInMessage is the name a PUC Lua message says held nil.
var nameInMessage = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^attempt to (?:call|index) a nil value \((global|field|method) '([^']*)'\)$`)
})

// suggestion is "; did you mean NAME?" for a message about a name that held nil, when a known
// name is one or two edits away.
func suggestion(L *glua.LState, c *chunk, line int, body string) string {
	m := nameInMessage().FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	if other, ok := otherNames[m[2]]; ok && m[1] == "global" {
		return "; did you mean " + other + "?"
	}
	var known []string
	if m[1] == "global" {
		known = globalNames(L)
	} else {
		tree, declared := c.parsed()
		f := &finder{L: L, declared: declared}
		walkChunk(tree, func(ast.Stmt) {}, func(e ast.Expr) {
			if known != nil || e.Line() != line && e.LastLine() != line {
				return
			}
			var obj ast.Expr
			switch e := e.(type) {
			case *ast.FuncCallExpr:
				if e.Receiver != nil && e.Method == m[2] {
					obj = e.Receiver
				}
			case *ast.AttrGetExpr:
				if k, ok := e.Key.(*ast.StringExpr); ok && k.Value == m[2] {
					obj = e.Object
				}
			}
			if obj != nil {
				if v, ok := f.eval(obj); ok {
					known = fieldNames(L, v)
				}
			}
		})
	}
	if best := nearest(m[2], known); best != "" {
		return "; did you mean " + best + "?"
	}
	return ""
}

// localNames are the names chunk declares local anywhere (local, parameters, loop variables).
func localNames(chunk []ast.Stmt) map[string]bool {
	locals := map[string]bool{}
	walkChunk(chunk, func(s ast.Stmt) {
		switch s := s.(type) {
		case *ast.LocalAssignStmt:
			for _, n := range s.Names {
				locals[n] = true
			}
		case *ast.NumberForStmt:
			locals[s.Name] = true
		case *ast.GenericForStmt:
			for _, n := range s.Names {
				locals[n] = true
			}
		}
	}, func(e ast.Expr) {
		if f, ok := e.(*ast.FunctionExpr); ok && f.ParList != nil {
			for _, n := range f.ParList.Names {
				locals[n] = true
			}
		}
	})
	return locals
}

// globalNames are the string keys of _G.
func globalNames(L *glua.LState) []string {
	return fieldNames(L, L.Get(glua.GlobalsIndex))
}

// fieldNames are the string keys of v and of its __index table.
func fieldNames(L *glua.LState, v glua.LValue) []string {
	var names []string
	for _, t := range []glua.LValue{v, L.GetMetaField(v, "__index")} {
		if t, ok := t.(*glua.LTable); ok {
			t.ForEach(func(k, _ glua.LValue) {
				if s, ok := k.(glua.LString); ok {
					names = append(names, string(s))
				}
			})
		}
	}
	return names
}

// nearest is the name in known closest to name (at most 2 edits, and fewer than half its
// length), "" when there is none.
func nearest(name string, known []string) string {
	best, bestDist := "", 3
	sort.Strings(known)
	for _, k := range known {
		if k == name {
			continue
		}
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); d < bestDist && d*2 < len(name) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (with transpositions: sokcet is one edit from
// socket).
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// walkChunk calls onStmt for every statement and onExpr for every expression of chunk.
func walkChunk(chunk []ast.Stmt, onStmt func(ast.Stmt), onExpr func(ast.Expr)) {
	w := walker{onStmt, onExpr}
	w.stmts(chunk)
}

type walker struct {
	onStmt func(ast.Stmt)
	onExpr func(ast.Expr)
}

func (w walker) stmts(list []ast.Stmt) {
	for _, s := range list {
		w.stmt(s)
	}
}

func (w walker) exprs(list ...ast.Expr) {
	for _, e := range list {
		w.expr(e)
	}
}

func (w walker) stmt(s ast.Stmt) {
	w.onStmt(s)
	switch s := s.(type) {
	case *ast.AssignStmt:
		w.exprs(s.Lhs...)
		w.exprs(s.Rhs...)
	case *ast.LocalAssignStmt:
		w.exprs(s.Exprs...)
	case *ast.FuncCallStmt:
		w.expr(s.Expr)
	case *ast.DoBlockStmt:
		w.stmts(s.Stmts)
	case *ast.WhileStmt:
		w.expr(s.Condition)
		w.stmts(s.Stmts)
	case *ast.RepeatStmt:
		w.stmts(s.Stmts)
		w.expr(s.Condition)
	case *ast.IfStmt:
		w.expr(s.Condition)
		w.stmts(s.Then)
		w.stmts(s.Else)
	case *ast.NumberForStmt:
		w.exprs(s.Init, s.Limit, s.Step)
		w.stmts(s.Stmts)
	case *ast.GenericForStmt:
		w.exprs(s.Exprs...)
		w.stmts(s.Stmts)
	case *ast.FuncDefStmt:
		w.exprs(s.Name.Func, s.Name.Receiver, s.Func)
	case *ast.ReturnStmt:
		w.exprs(s.Exprs...)
	}
}

func (w walker) expr(e ast.Expr) {
	if e == nil {
		return
	}
	w.onExpr(e)
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		w.exprs(e.Object, e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			w.exprs(f.Key, f.Value)
		}
	case *ast.FuncCallExpr:
		w.exprs(e.Func, e.Receiver)
		w.exprs(e.Args...)
	case *ast.LogicalOpExpr:
		w.exprs(e.Lhs, e.Rhs)
	case *ast.RelationalOpExpr:
		w.exprs(e.Lhs, e.Rhs)
	case *ast.StringConcatOpExpr:
		w.exprs(e.Lhs, e.Rhs)
	case *ast.ArithmeticOpExpr:
		w.exprs(e.Lhs, e.Rhs)
	case *ast.UnaryMinusOpExpr:
		w.expr(e.Expr)
	case *ast.UnaryNotOpExpr:
		w.expr(e.Expr)
	case *ast.UnaryLenOpExpr:
		w.expr(e.Expr)
	case *ast.FunctionExpr:
		w.stmts(e.Stmts)
	}
}
