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

// gopher-lua says "attempt to call a non-function object" and "attempt to index a non-table
// object(nil) with key 'x'" where PUC Lua names the culprit: "attempt to call a nil value (global
// 'sokcet')". NameCulprit finds it again from the chunk's source: the calls (or indexings) on the
// error's line whose value, looked up now, is not callable (not a table). Then it offers the
// nearest name there is ("did you mean socket?").

var (
	callError = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(.*?:(\d+): )attempt to call a non-function object$`)
	})
	indexError = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(.*?:(\d+): )attempt to index a non-table object\((\w+)\) with key '([^']*)'$`)
	})
	nilArgumentError = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(.*?:(\d+): bad argument #(\d+) to '([^']+)' \()[^()]* expected, got nil\)$`)
	})
)

// NameCulprit rewrites a runtime error message of a chunk whose source is src in PUC Lua's words,
// with a suggestion when a name was misspelt; other messages are returned as they are.
func NameCulprit(L *glua.LState, msg, src string) string {
	if m := callError().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[2])
		if c, ok := findCulprit(L, src, line, culpritCall, ""); ok {
			return m[1] + "attempt to call a " + c.typ + " value (" + c.what + ")" + c.suggestion()
		}
		return msg
	}
	if m := indexError().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[2])
		if c, ok := findCulprit(L, src, line, culpritIndex, m[4]); ok {
			return m[1] + "attempt to index a " + m[3] + " value (" + c.what + ")" + c.suggestion()
		}
	}
	if m := nilArgumentError().FindStringSubmatch(msg); m != nil {
		// As Python says: socket(AF_INTE, SOCK_DGRAM) names the misspelt global, and the name meant.
		line, _ := strconv.Atoi(m[2])
		n, _ := strconv.Atoi(m[3])
		if name := nilGlobalArgument(L, src, line, m[4], n); name != "" {
			if best := nearest(name, globalNames(L)); best != "" {
				return m[1] + "global '" + name + "' is nil; did you mean " + best + "?)"
			}
		}
	}
	return msg
}

// nilGlobalArgument is the name of the global, nil now, passed as argument n to the call of
// fname on line of src ("" when that argument is anything else). In a method call s:fname(...)
// the object is argument 1, as gopher-lua counts.
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
			i = n - 2
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

type culpritKind int

const (
	culpritCall culpritKind = iota
	culpritIndex
)

// culprit is what an error is about: "global 'sokcet'", its type now, and the names it could
// have meant.
type culprit struct {
	what, name, typ string
	known           []string
}

// otherNames are suggestions for names that are not there by any spelling.
var otherNames = map[string]string{"exit": "os.exit", "quit": "os.exit", "printf": "print(string.format(...))"}

func (c culprit) suggestion() string {
	if other, ok := otherNames[c.name]; ok && c.typ == "nil" {
		return "; did you mean " + other + "?"
	}
	if best := nearest(c.name, c.known); best != "" {
		return "; did you mean " + best + "?"
	}
	return ""
}

// findCulprit walks src for the expressions of kind on line and returns the first whose value is
// wrong now (for a local, whose value cannot be looked up, the first one found).
func findCulprit(L *glua.LState, src string, line int, kind culpritKind, key string) (culprit, bool) {
	chunk, err := parse.Parse(strings.NewReader(src), "culprit")
	if err != nil {
		return culprit{}, false
	}
	locals := localNames(chunk)
	var found []culprit
	walkChunk(chunk, func(ast.Stmt) {}, func(e ast.Expr) {
		if e.Line() != line && e.LastLine() != line {
			return
		}
		switch kind {
		case culpritCall:
			call, ok := e.(*ast.FuncCallExpr)
			if !ok {
				return
			}
			if call.Receiver != nil {
				recv, known := evalExpr(L, call.Receiver, locals)
				c := culprit{what: "method '" + call.Method + "'", name: call.Method, typ: "nil"}
				if known {
					m := L.GetField(recv, call.Method)
					if callable(L, m) {
						return
					}
					c.typ, c.known = m.Type().String(), fieldNames(L, recv)
				}
				found = append(found, c)
				return
			}
			c, ok := describe(L, call.Func, locals)
			if !ok {
				return
			}
			if v, known := evalExpr(L, call.Func, locals); known {
				if callable(L, v) {
					return
				}
				c.typ = v.Type().String()
			}
			found = append(found, c)
		case culpritIndex:
			get, ok := e.(*ast.AttrGetExpr)
			if !ok {
				return
			}
			if k, ok := get.Key.(*ast.StringExpr); !ok || k.Value != key {
				return
			}
			c, ok := describe(L, get.Object, locals)
			if !ok {
				return
			}
			if v, known := evalExpr(L, get.Object, locals); known && v != glua.LNil {
				return
			}
			found = append(found, c)
		}
	})
	// a value known to be wrong is a better answer than a local that cannot be looked up
	sort.SliceStable(found, func(i, j int) bool { return found[i].typ != "" && found[j].typ == "" })
	if len(found) == 0 {
		return culprit{}, false
	}
	if found[0].typ == "" {
		found[0].typ = "nil"
	}
	return found[0], true
}

// localNames are the names chunk declares local anywhere (local, parameters, loop variables): a
// name that is local somewhere is not looked up as a global.
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

// describe names the expression e as PUC Lua does: global 'x', local 'x', field 'x'.
func describe(L *glua.LState, e ast.Expr, locals map[string]bool) (culprit, bool) {
	switch e := e.(type) {
	case *ast.IdentExpr:
		if locals[e.Value] {
			return culprit{what: "local '" + e.Value + "'", name: e.Value}, true
		}
		return culprit{what: "global '" + e.Value + "'", name: e.Value, typ: "nil", known: globalNames(L)}, true
	case *ast.AttrGetExpr:
		if k, ok := e.Key.(*ast.StringExpr); ok {
			c := culprit{what: "field '" + k.Value + "'", name: k.Value}
			if obj, known := evalExpr(L, e.Object, locals); known {
				c.typ, c.known = "nil", fieldNames(L, obj)
			}
			return c, true
		}
	}
	return culprit{}, false
}

// evalExpr looks up a global name or a chain of fields of one (sock.foo.bar) without calling
// anything but __index tables; known is false for anything else.
func evalExpr(L *glua.LState, e ast.Expr, locals map[string]bool) (v glua.LValue, known bool) {
	switch e := e.(type) {
	case *ast.IdentExpr:
		if locals[e.Value] {
			return glua.LNil, false
		}
		return L.GetGlobal(e.Value), true
	case *ast.AttrGetExpr:
		k, ok := e.Key.(*ast.StringExpr)
		if !ok {
			return glua.LNil, false
		}
		obj, known := evalExpr(L, e.Object, locals)
		if !known {
			return glua.LNil, false
		}
		return rawLookup(L, obj, k.Value)
	}
	return glua.LNil, false
}

// rawLookup is obj[key] through __index tables only (no function is called).
func rawLookup(L *glua.LState, obj glua.LValue, key string) (glua.LValue, bool) {
	for depth := 0; depth < 10; depth++ {
		if t, ok := obj.(*glua.LTable); ok {
			if v := t.RawGetString(key); v != glua.LNil {
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
