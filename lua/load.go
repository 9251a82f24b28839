package lua

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// Loading Lua source goes through Load, here, rather than gopher-lua's own LState.Load: its
// compiler recurses once per level of nesting, so a chunk nested a million levels deep
// ("return not not ... x", a million "{") would overflow the Go stack, which no recover can
// catch. Load parses (gopher-lua's parser keeps its own stack), measures the syntax tree with a
// bounded walk, and compiles only what is within PUC Lua's limits. It also refuses a table
// constructor longer than gopher-lua's compiler can encode, which it would silently truncate.

const (
	// maxSyntaxLevels is PUC Lua's limit of nested syntax levels (LUAI_MAXCCALLS): nested
	// brackets, unary operators, right operands, blocks and functions.
	maxSyntaxLevels = 200
	// maxRecursion bounds the compiler's own recursion, which also follows the left operands of
	// binary operators and elseif chains (PUC Lua walks those in a loop): far above any real
	// chunk, far below what overflows the Go stack.
	maxRecursion = 100000
	// maxListItems is how many positional items gopher-lua's compiler can put in one table
	// constructor (511 SETLIST batches of 50); past it, it drops the rest without a word.
	maxListItems = 511 * 50
)

// SyntaxError is a chunk that cannot be compiled, in PUC Lua's words:
// "file:3: unexpected symbol near 'x'".
type SyntaxError struct {
	Source string // the chunk's name
	Line   int
	Msg    string
	// AtEOF says the chunk ended before it was complete: a console waits for more lines.
	AtEOF bool
}

// Error returns the message as PUC Lua writes it: "file:3: unexpected symbol near 'x'" ("file:
// message" for a chunk that has no lines: a binary one).
func (e *SyntaxError) Error() string {
	if e.Line == 0 {
		return e.Source + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Msg)
}

// Load compiles the Lua chunk read from r into a function of L, within PUC Lua's limits; a
// failure is a *SyntaxError (or the reader's error). chunkname names the chunk as lua_load's
// does: "=name" shows as name, "@file" as file, any other as [string "its first line"].
func Load(L *glua.LState, r io.Reader, chunkname string) (*glua.LFunction, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	name := chunkID(chunkname)
	if len(src) > 0 && src[0] == 0x1b {
		if !strings.HasPrefix(chunkname, "=") && !strings.HasPrefix(chunkname, "@") {
			name = "binary string" // as lundump.c names it
		}
		return nil, &SyntaxError{Source: name, Msg: "bad binary format (precompiled chunks are PUC Lua's, not gopher-lua's)"}
	}
	text, lexErr := rewriteLexemes(string(src))
	if lexErr != nil {
		return nil, &SyntaxError{Source: name, Line: lexErr.line, Msg: lexErr.msg, AtEOF: strings.HasSuffix(lexErr.msg, "<eof>")}
	}
	if rt := runtimeOf(L); rt != nil {
		rt.keepSource(name, text)
	}
	chunk, err := parse.Parse(strings.NewReader(text), name)
	if err != nil {
		return nil, syntaxError(err, name, text)
	}
	if err := checkChunk(chunk, name); err != nil {
		return nil, err
	}
	rewriteConcat(chunk)
	proto, err := glua.Compile(chunk, name)
	if err != nil {
		return nil, compileError(err, name)
	}
	return L.NewFunctionFromProto(proto), nil
}

// idSize is PUC Lua's LUA_IDSIZE: the longest chunk name a message shows, with its end.
const idSize = 60

// chunkID is how a message shows the chunk named chunkname: luaO_chunkid.
func chunkID(chunkname string) string {
	switch {
	case strings.HasPrefix(chunkname, "="):
		if len(chunkname) <= idSize {
			return chunkname[1:]
		}
		return chunkname[1:idSize]
	case strings.HasPrefix(chunkname, "@"):
		if len(chunkname) <= idSize {
			return chunkname[1:]
		}
		return "..." + chunkname[len(chunkname)-(idSize-3-1):]
	}
	const room = idSize - len(`[string "..."]`) - 1
	first, _, multiline := strings.Cut(chunkname, "\n")
	if !multiline && len(first) < room {
		return `[string "` + first + `"]`
	}
	if len(first) > room {
		first = first[:room]
	}
	return `[string "` + first + `..."]`
}

// compileError turns an error of gopher-lua's compiler into PUC Lua's form:
// "compile error near line(2) x: no visible label 'l' for <goto> at line 1" is
// "x:1: no visible label 'l' for <goto> at line 1".
func compileError(err error, name string) error {
	msg := err.Error()
	line := 1
	if m := compileErrorText().FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(m[2], name+": ")
	}
	if m := atLine().FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	if msg == "no loop to break" {
		msg = fmt.Sprintf("break outside loop at line %d", line)
	}
	return &SyntaxError{Source: name, Line: line, Msg: msg}
}

var (
	compileErrorText = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^compile error near line\((\d+)\) (.*)$`)
	})
	atLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(` (?:at|on) line (\d+)$`) })
)

// syntaxError turns gopher-lua's parse error into PUC Lua's form. An error at the end of input
// names the last line and <eof>.
func syntaxError(err error, name, src string) error {
	var perr *parse.Error
	if !errors.As(err, &perr) {
		return &SyntaxError{Source: name, Line: 1, Msg: err.Error()}
	}
	msg := perr.Message
	if msg == "syntax error" || msg == "Invalid token" {
		msg = "unexpected symbol"
	}
	if perr.Pos.Line == parse.EOF {
		last := strings.Count(strings.TrimRight(src, "\n"), "\n") + 1
		if msg == "unexpected symbol" {
			msg = expectedAtEOF(src, name, last)
		}
		return &SyntaxError{Source: name, Line: last, Msg: msg + " near <eof>", AtEOF: true}
	}
	near := perr.Token
	if near == "" {
		return &SyntaxError{Source: name, Line: perr.Pos.Line, Msg: msg}
	}
	if msg == "unexpected symbol" && namesExpected[tokenBefore(src, name, perr.Pos)] {
		msg = "<name> expected"
	}
	return &SyntaxError{Source: name, Line: perr.Pos.Line, Msg: msg + " near '" + printable(near) + "'"}
}

// namesExpected are the tokens a name must follow.
var namesExpected = map[int]bool{parse.TLocal: true, parse.TGoto: true, parse.TFor: true, parse.TFunction: true, '.': true, ':': true, parse.T2Colon: true}

// expressionExpected are the tokens an expression must follow (or, after an opener, its closer).
var expressionExpected = map[int]bool{
	'(': true, '[': true, '{': true, ',': true, '=': true, '+': true, '-': true, '*': true, '/': true, '%': true,
	'^': true, '#': true, '<': true, '>': true, parse.T2Comma: true, parse.TEqeq: true, parse.TNeq: true,
	parse.TLte: true, parse.TGte: true, parse.TAnd: true, parse.TOr: true, parse.TNot: true, parse.TIf: true,
	parse.TElseIf: true, parse.TWhile: true, parse.TUntil: true, parse.TIn: true,
}

// tokens scans src and calls fn with each token until fn returns false.
func tokens(src, name string, fn func(tok ast.Token) bool) {
	sc := parse.NewScanner(strings.NewReader(src), name)
	lexer := &parse.Lexer{}
	for {
		tok, err := sc.Scan(lexer)
		if err != nil || tok.Type <= 0 || !fn(tok) {
			return
		}
		lexer.PrevTokenType = tok.Type
	}
}

// tokenBefore is the type of the token before the one at pos (a parse error's position, the
// last column of its token), 0 when there is none.
func tokenBefore(src, name string, pos ast.Position) int {
	prev := 0
	tokens(src, name, func(tok ast.Token) bool {
		if tok.Pos.Line > pos.Line || tok.Pos.Line == pos.Line && tok.Pos.Column+len(tok.Str)-1 >= pos.Column {
			return false
		}
		prev = tok.Type
		return true
	})
	return prev
}

// expectedAtEOF says, as PUC Lua does, what the chunk src lacks at its end (line last): a name
// after local, an expression after an operator or an opener ("unexpected symbol"), the do of a
// loop or the then of an if, else the closer of the innermost construct left open, "')'
// expected" or "'end' expected (to close 'for' at line 3)"; "unexpected symbol" when nothing is
// open (x = ).
func expectedAtEOF(src, name string, last int) string {
	type open struct {
		closer, opener string
		line           int
	}
	var stack []open
	var awaiting string // "do" after for or while, "then" after if or elseif
	lastToken := 0
	tokens(src, name, func(tok ast.Token) bool {
		lastToken = tok.Type
		line := tok.Pos.Line
		switch tok.Type {
		case '(', '[', '{':
			stack = append(stack, open{map[int]string{'(': ")", '[': "]", '{': "}"}[tok.Type], tok.Str, line})
		case ')', ']', '}', parse.TEnd, parse.TUntil:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case parse.TFor, parse.TWhile:
			stack = append(stack, open{"end", tok.Str, line})
			awaiting = "do"
		case parse.TIf:
			stack = append(stack, open{"end", tok.Str, line})
			awaiting = "then"
		case parse.TElseIf:
			awaiting = "then"
		case parse.TDo:
			if awaiting == "do" {
				awaiting = ""
			} else {
				stack = append(stack, open{"end", "do", line})
			}
		case parse.TThen:
			awaiting = ""
		case parse.TFunction:
			stack = append(stack, open{"end", tok.Str, line})
		case parse.TRepeat:
			stack = append(stack, open{"until", "repeat", line})
		}
		return true
	})
	switch {
	case namesExpected[lastToken]:
		return "<name> expected"
	case expressionExpected[lastToken]:
		return "unexpected symbol"
	case awaiting != "":
		return "'" + awaiting + "' expected"
	case len(stack) == 0:
		return "unexpected symbol"
	}
	top := stack[len(stack)-1]
	if top.line == last {
		return "'" + top.closer + "' expected"
	}
	return fmt.Sprintf("'%s' expected (to close '%s' at line %d)", top.closer, top.opener, top.line)
}

// printable shows a token as text: a NUL or other control byte (a binary file) as \ddd.
func printable(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "\\%d", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// treeCheck walks a syntax tree no deeper than the limits allow.
type treeCheck struct {
	name string
	err  *SyntaxError
}

// checkChunk reports the first place chunk goes past a limit.
func checkChunk(chunk []ast.Stmt, name string) error {
	c := &treeCheck{name: name}
	c.stmts(chunk, 1, 1)
	if c.err != nil {
		return c.err
	}
	return nil
}

// tooDeep records a limit passed at line; it reports whether the walk must stop.
func (c *treeCheck) tooDeep(line, level, depth int) bool {
	if c.err != nil {
		return true
	}
	switch {
	case level > maxSyntaxLevels:
		c.err = &SyntaxError{Source: c.name, Line: line, Msg: "chunk has too many syntax levels"}
	case depth > maxRecursion:
		c.err = &SyntaxError{Source: c.name, Line: line, Msg: "chunk is too complex (nested too deep)"}
	}
	return c.err != nil
}

func (c *treeCheck) stmts(list []ast.Stmt, level, depth int) {
	for _, s := range list {
		c.stmt(s, level, depth)
		if c.err != nil {
			return
		}
	}
}

func (c *treeCheck) exprs(list []ast.Expr, level, depth int) {
	for _, e := range list {
		c.expr(e, level, depth)
		if c.err != nil {
			return
		}
	}
}

func (c *treeCheck) stmt(s ast.Stmt, level, depth int) {
	if c.tooDeep(s.Line(), level, depth) {
		return
	}
	switch s := s.(type) {
	case *ast.AssignStmt:
		c.exprs(s.Lhs, level+1, depth+1)
		c.exprs(s.Rhs, level+1, depth+1)
	case *ast.LocalAssignStmt:
		c.exprs(s.Exprs, level+1, depth+1)
	case *ast.FuncCallStmt:
		c.expr(s.Expr, level+1, depth+1)
	case *ast.DoBlockStmt:
		c.stmts(s.Stmts, level+1, depth+1)
	case *ast.WhileStmt:
		c.expr(s.Condition, level+1, depth+1)
		c.stmts(s.Stmts, level+1, depth+1)
	case *ast.RepeatStmt:
		c.stmts(s.Stmts, level+1, depth+1)
		c.expr(s.Condition, level+1, depth+1)
	case *ast.IfStmt:
		c.expr(s.Condition, level+1, depth+1)
		c.stmts(s.Then, level+1, depth+1)
		if len(s.Else) == 1 {
			if elseif, ok := s.Else[0].(*ast.IfStmt); ok {
				c.stmt(elseif, level, depth+1) // an elseif: the same level, as in PUC Lua
				return
			}
		}
		c.stmts(s.Else, level+1, depth+1)
	case *ast.NumberForStmt:
		c.exprs([]ast.Expr{s.Init, s.Limit, s.Step}, level+1, depth+1)
		c.stmts(s.Stmts, level+1, depth+1)
	case *ast.GenericForStmt:
		c.exprs(s.Exprs, level+1, depth+1)
		c.stmts(s.Stmts, level+1, depth+1)
	case *ast.FuncDefStmt:
		c.expr(s.Name.Func, level+1, depth+1)
		c.expr(s.Name.Receiver, level+1, depth+1)
		c.expr(s.Func, level+1, depth+1)
	case *ast.ReturnStmt:
		c.exprs(s.Exprs, level+1, depth+1)
	}
}

func (c *treeCheck) expr(e ast.Expr, level, depth int) {
	if e == nil || c.tooDeep(e.Line(), level, depth) {
		return
	}
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		c.expr(e.Object, level, depth+1)
		c.expr(e.Key, level+1, depth+1)
	case *ast.TableExpr:
		items := 0
		for _, f := range e.Fields {
			if f.Key == nil {
				items++
			}
			c.expr(f.Key, level+1, depth+1)
			c.expr(f.Value, level+1, depth+1)
			if c.err != nil {
				return
			}
		}
		if items > maxListItems {
			c.err = &SyntaxError{Source: c.name, Line: e.Line(),
				Msg: fmt.Sprintf("table constructor has %d list items; at most %d are supported", items, maxListItems)}
		}
	case *ast.FuncCallExpr:
		c.expr(e.Func, level, depth+1)
		c.expr(e.Receiver, level, depth+1)
		c.exprs(e.Args, level+1, depth+1)
	case *ast.LogicalOpExpr:
		c.binary(e.Lhs, e.Rhs, level, depth)
	case *ast.RelationalOpExpr:
		c.binary(e.Lhs, e.Rhs, level, depth)
	case *ast.StringConcatOpExpr:
		c.binary(e.Lhs, e.Rhs, level, depth)
	case *ast.ArithmeticOpExpr:
		c.binary(e.Lhs, e.Rhs, level, depth)
	case *ast.UnaryMinusOpExpr:
		c.expr(e.Expr, level+1, depth+1)
	case *ast.UnaryNotOpExpr:
		c.expr(e.Expr, level+1, depth+1)
	case *ast.UnaryLenOpExpr:
		c.expr(e.Expr, level+1, depth+1)
	case *ast.FunctionExpr:
		c.stmts(e.Stmts, level+1, depth+1)
	}
}

// binary walks a binary operator's operands: the left at the same level (PUC Lua loops over a
// chain of them), the right one level down.
func (c *treeCheck) binary(lhs, rhs ast.Expr, level, depth int) {
	c.expr(lhs, level, depth+1)
	c.expr(rhs, level+1, depth+1)
}

// installLoaders makes load, loadfile, dofile and require's loader of Lua files compile through
// Load, and package.path Lua 5.4's.
func (rt *Runtime) installLoaders(L *glua.LState) {
	if pkg, ok := L.GetGlobal("package").(*glua.LTable); ok {
		pkg.RawSetString("path", glua.LString(luaPath()))
	}
	L.SetGlobal("load", L.NewFunction(loadCall))
	L.SetGlobal("loadfile", L.NewFunction(func(L *glua.LState) int {
		a := args{L, "loadfile"}
		env := glua.LValue(glua.LNil)
		if L.GetTop() >= 3 {
			env = L.Get(3)
		}
		if L.Get(1) == glua.LNil {
			return pushLoaded(L, bufio.NewReader(rt.stdinReader()), "=stdin", env)
		}
		path := a.string(1)
		f, err := os.Open(path)
		if err != nil {
			L.Push(glua.LNil)
			L.Push(glua.LString("cannot open " + path))
			return 2
		}
		defer f.Close()
		return pushLoaded(L, f, "@"+path, env)
	}))
	L.SetGlobal("dofile", L.NewFunction(func(L *glua.LState) int {
		path := args{L, "dofile"}.string(1)
		f, err := os.Open(path)
		if err != nil {
			L.RaiseError("cannot open %s", path)
		}
		defer f.Close()
		fn, err := Load(L, f, "@"+path)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		top := L.GetTop()
		L.Push(fn)
		L.Call(0, glua.MultRet)
		return L.GetTop() - top
	}))
	if loaders, ok := L.GetField(L.Get(glua.RegistryIndex), "_LOADERS").(*glua.LTable); ok {
		loaders.RawSetInt(2, L.NewFunction(rt.luaFileLoader))
	}
}

// defaultPath is Lua 5.4's LUA_PATH_DEFAULT on Unix, and Debian's directory.
const defaultPath = "/usr/local/share/lua/5.4/?.lua;/usr/local/share/lua/5.4/?/init.lua;" +
	"/usr/local/lib/lua/5.4/?.lua;/usr/local/lib/lua/5.4/?/init.lua;" +
	"/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua;./?.lua;./?/init.lua"

// luaPath is package.path as lua5.4 sets it: LUA_PATH_5_4 or LUA_PATH, ";;" in it standing for
// the default, else the default.
func luaPath() string {
	for _, name := range []string{"LUA_PATH_5_4", "LUA_PATH"} {
		if v, ok := os.LookupEnv(name); ok {
			return strings.Replace(v, ";;", ";"+defaultPath+";", 1)
		}
	}
	return defaultPath
}

// loadCall is load(chunk[, chunkname[, mode[, env]]]): chunk is a string, or a function
// returning its pieces; env, when given, is the chunk's environment.
func loadCall(L *glua.LState) int {
	a := args{L, "load"}
	env := glua.LValue(glua.LNil)
	if L.GetTop() >= 4 {
		env = L.Get(4)
	}
	mode := "bt"
	if L.Get(3) != glua.LNil {
		mode = a.string(3)
	}
	var src, name string
	if s, ok := asString(L.Get(1)); ok {
		src, name = s, L.OptString(2, s)
	} else {
		fn, ok := L.Get(1).(*glua.LFunction)
		if !ok {
			a.typeError(1, "function")
		}
		name = L.OptString(2, "=(load)")
		var b strings.Builder
		for {
			L.Push(fn)
			L.Call(0, 1)
			piece := L.Get(-1)
			L.Pop(1)
			s, ok := piece.(glua.LString)
			if piece == glua.LNil || ok && s == "" {
				break
			}
			if !ok {
				L.Push(glua.LNil)
				L.Push(glua.LString("reader function must return a string"))
				return 2
			}
			b.WriteString(string(s))
		}
		src = b.String()
	}
	binary := strings.HasPrefix(src, "\x1b")
	if binary && !strings.Contains(mode, "b") || !binary && !strings.Contains(mode, "t") {
		kind := map[bool]string{true: "binary", false: "text"}[binary]
		L.Push(glua.LNil)
		L.Push(glua.LString(fmt.Sprintf("attempt to load a %s chunk (mode is '%s')", kind, mode)))
		return 2
	}
	return pushLoaded(L, strings.NewReader(src), name, env)
}

// pushLoaded pushes the function compiled from r, with env as its environment when it is not
// nil, or nil and the error message.
func pushLoaded(L *glua.LState, r io.Reader, name string, env glua.LValue) int {
	fn, err := Load(L, r, name)
	if err != nil {
		L.Push(glua.LNil)
		L.Push(glua.LString(err.Error()))
		return 2
	}
	if t, ok := env.(*glua.LTable); ok {
		fn.Env = t
	}
	L.Push(fn)
	return 1
}

// luaFileLoader is require's loader of Lua files: it searches package.path, then the modules
// the program ships (Options.Lib), and says, as PUC Lua does, which files it tried ("no file
// './x.lua'").
func (rt *Runtime) luaFileLoader(L *glua.LState) int {
	name := args{L, "require"}.string(1)
	path, ok := L.GetField(L.GetGlobal("package"), "path").(glua.LString)
	if !ok {
		L.RaiseError("package.path must be a string")
	}
	var tried []string
	for _, pattern := range strings.Split(string(path), ";") {
		file := strings.ReplaceAll(pattern, "?", strings.ReplaceAll(name, ".", string(os.PathSeparator)))
		f, err := os.Open(file)
		if err != nil {
			tried = append(tried, "no file '"+file+"'")
			continue
		}
		fn, err := Load(L, f, "@"+file)
		f.Close()
		if err != nil {
			L.RaiseError("error loading module '%s' from file '%s':\n\t%s", name, file, err.Error())
		}
		L.Push(fn)
		return 1
	}
	if rt.opts.Lib != nil {
		file := strings.ReplaceAll(name, ".", "/") + ".lua"
		if b, err := fs.ReadFile(rt.opts.Lib, file); err == nil {
			fn, err := Load(L, bytes.NewReader(b), "@"+rt.opts.Progname+":lib/"+file)
			if err != nil {
				L.RaiseError("error loading module '%s' from %s's lib/%s:\n\t%s", name, rt.opts.Progname, file, err.Error())
			}
			L.Push(fn)
			return 1
		}
		tried = append(tried, "no module 'lib/"+file+"' in "+rt.opts.Progname)
	}
	L.Push(glua.LString(strings.Join(tried, "\n\t")))
	return 1
}
