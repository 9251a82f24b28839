package lua

import (
	"strings"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// Concatenation is the one place Lua code asks for a large block without calling a function:
// s .. s allocates both at once, and a loop of it doubles the heap each turn, faster than any
// periodic watch. gopher-lua's VM offers no hook there, so Load compiles each chain a .. b .. c
// as a call to concatName(a, b, c), which sizes the result against the memory budget before
// building it. Operands are evaluated as before, left to right, and __concat metamethods are
// honoured, right to left, as in Lua.

// concatName is the global the compiled chains call.
const concatName = "__lua54_concat"

// forStepName is the global a numeric for's step goes through, unless it is a constant other
// than 0: gopher-lua loops on a step of 0, where Lua 5.4 raises "'for' step is zero".
const forStepName = "__lua54_forstep"

// checkedStep is step, through forStepName when it may be 0.
func checkedStep(step ast.Expr) ast.Expr {
	if step == nil {
		return nil
	}
	if n, ok := step.(*ast.NumberExpr); ok {
		if f, err := ParseNumber(n.Value); err == nil && f != 0 {
			return step
		}
	}
	fn := &ast.IdentExpr{Value: forStepName}
	fn.SetLine(step.Line())
	call := &ast.FuncCallExpr{Func: fn, Args: []ast.Expr{step}, AdjustRet: true}
	call.SetLine(step.Line())
	call.SetLastLine(step.LastLine())
	return call
}

// forStepCall is forStepName(step): step, once it is known not to be 0.
func forStepCall(L *glua.LState) int {
	if n, ok := L.Get(1).(glua.LNumber); ok && n == 0 {
		L.RaiseError("'for' step is zero")
	}
	return 1
}

// rewriteConcat replaces every concatenation in chunk by a call to concatName.
func rewriteConcat(chunk []ast.Stmt) {
	for _, s := range chunk {
		rewriteStmt(s)
	}
}

func rewriteStmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		rewriteExprs(s.Lhs)
		rewriteExprs(s.Rhs)
	case *ast.LocalAssignStmt:
		rewriteExprs(s.Exprs)
	case *ast.FuncCallStmt:
		s.Expr = rewriteExpr(s.Expr)
	case *ast.DoBlockStmt:
		rewriteConcat(s.Stmts)
	case *ast.WhileStmt:
		s.Condition = rewriteExpr(s.Condition)
		rewriteConcat(s.Stmts)
	case *ast.RepeatStmt:
		rewriteConcat(s.Stmts)
		s.Condition = rewriteExpr(s.Condition)
	case *ast.IfStmt:
		s.Condition = rewriteExpr(s.Condition)
		rewriteConcat(s.Then)
		rewriteConcat(s.Else)
	case *ast.NumberForStmt:
		s.Init, s.Limit, s.Step = rewriteExpr(s.Init), rewriteExpr(s.Limit), checkedStep(rewriteExpr(s.Step))
		rewriteConcat(s.Stmts)
	case *ast.GenericForStmt:
		rewriteExprs(s.Exprs)
		rewriteConcat(s.Stmts)
	case *ast.FuncDefStmt:
		rewriteConcat(s.Func.Stmts)
	case *ast.ReturnStmt:
		rewriteExprs(s.Exprs)
	}
}

func rewriteExprs(list []ast.Expr) {
	for i, e := range list {
		list[i] = rewriteExpr(e)
	}
}

func rewriteExpr(e ast.Expr) ast.Expr {
	switch e := e.(type) {
	case nil:
		return nil
	case *ast.StringConcatOpExpr:
		var operands []ast.Expr
		for {
			operands = append(operands, rewriteExpr(e.Lhs))
			next, ok := e.Rhs.(*ast.StringConcatOpExpr)
			if !ok {
				operands = append(operands, rewriteExpr(e.Rhs))
				break
			}
			e = next
		}
		fn := &ast.IdentExpr{Value: concatName}
		fn.SetLine(e.Line())
		call := &ast.FuncCallExpr{Func: fn, Args: operands, AdjustRet: true}
		call.SetLine(e.Line())
		call.SetLastLine(e.LastLine())
		return call
	case *ast.AttrGetExpr:
		e.Object, e.Key = rewriteExpr(e.Object), rewriteExpr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			f.Key, f.Value = rewriteExpr(f.Key), rewriteExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		e.Func, e.Receiver = rewriteExpr(e.Func), rewriteExpr(e.Receiver)
		rewriteExprs(e.Args)
	case *ast.LogicalOpExpr:
		e.Lhs, e.Rhs = rewriteExpr(e.Lhs), rewriteExpr(e.Rhs)
	case *ast.RelationalOpExpr:
		e.Lhs, e.Rhs = rewriteExpr(e.Lhs), rewriteExpr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		e.Lhs, e.Rhs = rewriteExpr(e.Lhs), rewriteExpr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		e.Expr = rewriteExpr(e.Expr)
	case *ast.UnaryNotOpExpr:
		e.Expr = rewriteExpr(e.Expr)
	case *ast.UnaryLenOpExpr:
		e.Expr = rewriteExpr(e.Expr)
	case *ast.FunctionExpr:
		rewriteConcat(e.Stmts)
	}
	return e
}

// concatCall is concatName(a, b, ...): a .. b .. ..., its size checked against the memory budget.
func (rt *Runtime) concatCall(L *glua.LState) int {
	n := L.GetTop()
	rhs := L.Get(n)
	for i := n - 1; i >= 1; {
		lhs := L.Get(i)
		if !glua.LVCanConvToString(lhs) || !glua.LVCanConvToString(rhs) {
			rhs = concatMeta(L, lhs, rhs)
			i--
			continue
		}
		// the longest run of strings and numbers ending at i joins in one allocation
		j := i
		for j > 1 && glua.LVCanConvToString(L.Get(j-1)) {
			j--
		}
		right, _ := asString(rhs)
		size := int64(len(right))
		for k := j; k <= i; k++ {
			s, _ := asString(L.Get(k))
			size += int64(len(s))
		}
		rt.Reserve(L, size)
		var b strings.Builder
		b.Grow(int(size))
		for k := j; k <= i; k++ {
			s, _ := asString(L.Get(k))
			b.WriteString(s)
		}
		b.WriteString(right)
		rhs = glua.LString(b.String())
		i = j - 1
	}
	L.SetTop(0)
	L.Push(rhs)
	return 1
}

// concatMeta is lhs .. rhs through a __concat metamethod, or the error Lua gives.
func concatMeta(L *glua.LState, lhs, rhs glua.LValue) glua.LValue {
	v, ok := callBinaryMeta(L, "__concat", lhs, rhs)
	if !ok {
		bad := lhs
		if glua.LVCanConvToString(lhs) {
			bad = rhs
		}
		L.RaiseError("attempt to concatenate a %s value", bad.Type().String())
	}
	return v
}

// callBinaryMeta calls the metamethod event of a, else of b, with a and b, as Lua 5.4 looks for
// a binary operator's, and returns its first result; ok is false when neither has one.
func callBinaryMeta(L *glua.LState, event string, a, b glua.LValue) (v glua.LValue, ok bool) {
	op := L.GetMetaField(a, event)
	if op == glua.LNil {
		op = L.GetMetaField(b, event)
	}
	if op == glua.LNil {
		return glua.LNil, false
	}
	L.Push(op)
	L.Push(a)
	L.Push(b)
	L.Call(2, 1)
	v = L.Get(-1)
	L.Pop(1)
	return v, true
}
