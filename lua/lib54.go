package lua

import (
	"io"
	"math"
	"os"
	"runtime"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// The standard library as Lua 5.4 has it, where gopher-lua's is Lua 5.1's: the functions 5.2 to
// 5.4 added (table.pack, table.unpack, table.move, rawlen, math.type, math.tointeger, math.ult,
// math.maxinteger, math.mininteger, warn, utf8), those whose arguments or answers changed
// (ipairs, pairs, collectgarbage, table.insert, table.remove, table.sort, string.char, the
// pattern functions (pattern.go), math.max, math.min, os.remove, os.rename, require's message),
// and without the names 5.4 no longer has (unpack, loadstring, setfenv, getfenv, module,
// table.getn, ...) or that were gopher-lua's own (channel, _printregs).

// removedNames are globals and fields Lua 5.4 does not have.
var removedNames = map[string][]string{
	"":       {"unpack", "loadstring", "setfenv", "getfenv", "module", "newproxy", "_printregs", "channel", "_GOPHER_LUA_VERSION"},
	"table":  {"getn", "maxn", "setn", "foreach", "foreachi"},
	"string": {"gfind"},
	"math":   {"mod", "pow", "ldexp", "frexp", "cosh", "sinh", "tanh", "log10"},
	"os":     {"setenv"},
	"debug":  {"getfenv", "setfenv"},
}

// install54 makes L's library Lua 5.4's.
func (rt *Runtime) install54(L *glua.LState) {
	for lib, names := range removedNames {
		t := L.G.Global
		if lib != "" {
			var ok bool
			if t, ok = L.GetGlobal(lib).(*glua.LTable); !ok {
				continue
			}
		}
		for _, name := range names {
			t.RawSetString(name, glua.LNil)
		}
	}
	if loaded, ok := L.GetField(L.Get(glua.RegistryIndex), "_LOADED").(*glua.LTable); ok {
		loaded.RawSetString("channel", glua.LNil)
		utf8 := L.SetFuncs(L.NewTable(), map[string]glua.LGFunction{
			"char": utf8Char, "codepoint": utf8Codepoint, "len": utf8Len, "offset": utf8Offset, "codes": utf8Codes,
		})
		utf8.RawSetString("charpattern", glua.LString("[\x00-\x7F\xC2-\xFD][\x80-\xBF]*"))
		L.SetGlobal("utf8", utf8)
		loaded.RawSetString("utf8", utf8)
	}
	L.SetGlobal("_VERSION", glua.LString("Lua 5.4"))
	L.SetFuncs(L.G.Global, map[string]glua.LGFunction{
		"rawlen":         rawlenCall,
		"ipairs":         ipairsCall,
		"pairs":          pairsCall,
		"collectgarbage": collectgarbageCall,
		"warn":           rt.warnCall,
	})
	if t, ok := L.GetGlobal("table").(*glua.LTable); ok {
		L.SetFuncs(t, map[string]glua.LGFunction{
			"pack":   tablePack,
			"unpack": tableUnpack,
			"move":   tableMove,
			"insert": tableInsert,
			"remove": tableRemove,
		})
		if sort, ok := t.RawGetString("sort").(*glua.LFunction); ok && sort.IsG {
			t.RawSetString("sort", L.NewFunction(func(L *glua.LState) int {
				if L.GetTop() == 2 && L.Get(2) == glua.LNil {
					L.SetTop(1) // a nil comparator is the default one
				}
				if t, ok := L.Get(1).(*glua.LTable); ok && L.GetTop() >= 2 && t.Len() <= 1 {
					L.SetTop(1) // ltablib.c looks at the comparator only when it has two elements to sort
				}
				return sort.GFunction(L)
			}))
		}
	}
	if m, ok := L.GetGlobal("math").(*glua.LTable); ok {
		m.RawSetString("maxinteger", glua.LNumber(math.MaxInt64))
		m.RawSetString("mininteger", glua.LNumber(math.MinInt64))
		L.SetFuncs(m, map[string]glua.LGFunction{
			"type":      mathType,
			"tointeger": mathTointeger,
			"ult":       mathUlt,
			"floor":     func(L *glua.LState) int { return rounding(L, "floor", math.Floor) },
			"ceil":      func(L *glua.LState) int { return rounding(L, "ceil", math.Ceil) },
		})
	}
	if s, ok := L.GetGlobal("string").(*glua.LTable); ok {
		L.SetFuncs(s, map[string]glua.LGFunction{
			"char": stringChar, "find": strFind, "match": strMatch, "gmatch": strGmatch, "gsub": strGsub,
		})
	}
	if o, ok := L.GetGlobal("os").(*glua.LTable); ok {
		L.SetFuncs(o, map[string]glua.LGFunction{"remove": osRemove, "rename": osRename})
	}
	rt.install54More(L)
	if req, ok := L.GetGlobal("require").(*glua.LFunction); ok && req.IsG {
		L.SetGlobal("require", L.NewFunction(requireAsLua54(req.GFunction)))
	}
}

// rawlenCall is rawlen(v): the length of a table or string without __len.
func rawlenCall(L *glua.LState) int {
	switch v := L.Get(1).(type) {
	case *glua.LTable:
		L.Push(glua.LNumber(v.Len()))
	case glua.LString:
		L.Push(glua.LNumber(len(v)))
	default:
		args{L, "rawlen"}.typeError(1, "table or string")
	}
	return 1
}

// ipairsCall is ipairs(t): any value, indexed with its metamethods, until the first nil.
func ipairsCall(L *glua.LState) int {
	if L.GetTop() == 0 {
		args{L, "ipairs"}.argError(1, "value expected")
	}
	L.Push(L.NewFunction(func(L *glua.LState) int {
		i := args{L, "ipairs"}.int(2) + 1
		v := L.GetTable(L.Get(1), glua.LNumber(i))
		if v == glua.LNil {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(glua.LNumber(i))
		L.Push(v)
		return 2
	}))
	L.Push(L.Get(1))
	L.Push(glua.LNumber(0))
	return 3
}

// pairsCall is pairs(t): __pairs's three values, else next, t, nil.
func pairsCall(L *glua.LState) int {
	if L.GetTop() == 0 {
		args{L, "pairs"}.argError(1, "value expected")
	}
	t := L.Get(1)
	if mm := L.GetMetaField(t, "__pairs"); mm != glua.LNil {
		L.Push(mm)
		L.Push(t)
		L.Call(1, 3)
		return 3
	}
	L.Push(L.GetGlobal("next"))
	L.Push(t)
	L.Push(glua.LNil)
	return 3
}

// collectgarbageCall is collectgarbage([opt]) with Lua 5.4's options; the Go runtime's
// collector has no steps or modes to set, so "step", "incremental" and "generational" collect
// or answer as a collector that does nothing more would.
func collectgarbageCall(L *glua.LState) int {
	opt := "collect"
	if L.Get(1) != glua.LNil {
		opt = args{L, "collectgarbage"}.string(1)
	}
	switch opt {
	case "collect":
		runtime.GC()
		L.Push(glua.LNumber(0))
	case "count":
		L.Push(glua.LNumber(float64(heapBytes()) / 1024))
	case "step":
		runtime.GC()
		L.Push(glua.LTrue)
	case "isrunning":
		L.Push(glua.LTrue)
	case "stop", "restart", "setpause", "setstepmul":
		L.Push(glua.LNumber(0))
	case "incremental", "generational":
		L.Push(glua.LString("incremental"))
	default:
		args{L, "collectgarbage"}.argError(1, "invalid option '"+opt+"'")
	}
	return 1
}

// warnCall is warn(msg, ...): "Lua warning: " and the message on stderr, once "@on" turned
// warnings on (lua(1) starts with them off).
func (rt *Runtime) warnCall(L *glua.LState) int {
	a := args{L, "warn"}
	var b strings.Builder
	for i := 1; i <= max(L.GetTop(), 1); i++ {
		if _, ok := L.Get(i).(glua.LString); !ok {
			a.typeError(i, "string")
		}
		b.WriteString(a.string(i))
	}
	msg := b.String()
	switch {
	case L.GetTop() == 1 && msg == "@on":
		rt.warnings = true
	case L.GetTop() == 1 && msg == "@off":
		rt.warnings = false
	case L.GetTop() == 1 && strings.HasPrefix(msg, "@"):
	case rt.warnings:
		io.WriteString(rt.stderr(), "Lua warning: "+msg+"\n")
	}
	return 0
}

// tablePack is table.pack(...): the values, and n.
func tablePack(L *glua.LState) int {
	n := L.GetTop()
	t := L.CreateTable(n, 1)
	for i := 1; i <= n; i++ {
		t.RawSetInt(i, L.Get(i))
	}
	t.RawSetString("n", glua.LNumber(n))
	L.Push(t)
	return 1
}

// maxUnpack bounds what table.unpack returns, as PUC Lua's stack does ("too many results").
const maxUnpack = 1 << 20

// tableUnpack is table.unpack(t[, i[, j]]).
func tableUnpack(L *glua.LState) int {
	a := args{L, "unpack"}
	t := L.Get(1)
	i := a.optInt(2, 1)
	var j int
	if L.Get(3) == glua.LNil {
		switch t.Type() {
		case glua.LTTable, glua.LTString:
		default:
			if L.GetMetaField(t, "__len") == glua.LNil {
				L.RaiseError("attempt to get length of a %s value", objTypeName(L, t))
			}
		}
		j = L.ObjLen(t)
	} else {
		j = a.int(3)
	}
	if i > j {
		return 0
	}
	if j-i >= maxUnpack {
		L.RaiseError("too many results to unpack")
	}
	pushMany(L, "too many results to unpack", func() {
		for k := i; k <= j; k++ {
			L.Push(L.GetTable(t, glua.LNumber(k)))
		}
	})
	return j - i + 1
}

// tableMove is table.move(a1, f, e, t[, a2]): a2[t..] = a1[f..e], a2 returned.
func tableMove(L *glua.LState) int {
	a := args{L, "move"}
	src := L.Get(1)
	f, e, t := a.int(2), a.int(3), a.int(4)
	dst := src
	if L.GetTop() >= 5 && L.Get(5) != glua.LNil {
		dst = a.table(5)
	}
	if e >= f {
		if f <= 0 && e >= math.MaxInt64+f {
			a.argError(3, "too many elements to move")
		}
		if t > math.MaxInt64-(e-f) {
			a.argError(4, "destination wrap around")
		}
		if t > e || t <= f || dst != src {
			for i := 0; i <= e-f; i++ {
				L.SetTable(dst, glua.LNumber(t+i), L.GetTable(src, glua.LNumber(f+i)))
			}
		} else {
			for i := e - f; i >= 0; i-- {
				L.SetTable(dst, glua.LNumber(t+i), L.GetTable(src, glua.LNumber(f+i)))
			}
		}
	}
	L.Push(dst)
	return 1
}

// tableInsert is table.insert(t, [pos,] v), with Lua 5.4's checks.
func tableInsert(L *glua.LState) int {
	a := args{L, "insert"}
	t := a.table(1)
	e := t.Len() + 1
	switch L.GetTop() {
	case 2:
		t.RawSetInt(e, L.Get(2))
	case 3:
		pos := a.int(2)
		if uint(pos-1) >= uint(e) {
			a.argError(2, "position out of bounds")
		}
		for i := e; i > pos; i-- {
			t.RawSetInt(i, t.RawGetInt(i-1))
		}
		t.RawSetInt(pos, L.Get(3))
	default:
		L.RaiseError("wrong number of arguments to 'insert'")
	}
	return 0
}

// tableRemove is table.remove(t[, pos]), with Lua 5.4's checks.
func tableRemove(L *glua.LState) int {
	a := args{L, "remove"}
	t := a.table(1)
	size := t.Len()
	pos := a.optInt(2, size)
	if pos != size && uint(pos)-1 > uint(size) {
		a.argError(1, "position out of bounds") // lua5.4 (5.4.4) names the first argument
	}
	v := t.RawGetInt(pos)
	for ; pos < size; pos++ {
		t.RawSetInt(pos, t.RawGetInt(pos+1))
	}
	t.RawSetInt(pos, glua.LNil)
	L.Push(v)
	return 1
}

// mathType is math.type(x): "integer" for an integral number (gopher-lua has no other
// integers), "float" for the others, nil for what is not a number.
func mathType(L *glua.LState) int {
	if L.GetTop() == 0 {
		args{L, "type"}.argError(1, "value expected")
	}
	n, ok := L.Get(1).(glua.LNumber)
	switch {
	case !ok:
		L.Push(glua.LNil)
	case float64(n) == math.Trunc(float64(n)) && float64(n) >= -maxExactInt && float64(n) < maxExactInt:
		L.Push(glua.LString("integer"))
	default:
		L.Push(glua.LString("float"))
	}
	return 1
}

// mathTointeger is math.tointeger(x): x when it has an integer value, else nil.
func mathTointeger(L *glua.LState) int {
	n, ok := L.Get(1).(glua.LNumber)
	if f := float64(n); ok && f == math.Trunc(f) && f >= -maxExactInt && f < maxExactInt {
		L.Push(n + 0) // -0 is 0
		return 1
	}
	if L.GetTop() == 0 {
		args{L, "tointeger"}.argError(1, "value expected")
	}
	L.Push(glua.LNil)
	return 1
}

// mathUlt is math.ult(m, n): m < n as unsigned integers.
func mathUlt(L *glua.LState) int {
	a := args{L, "ult"}
	L.Push(glua.LBool(uint64(int64(a.int(1))) < uint64(int64(a.int(2)))))
	return 1
}

// rounding is math.floor or math.ceil: an integral result, which Lua 5.4 returns as an integer
// when it fits one (so never -0).
func rounding(L *glua.LState, name string, round func(float64) float64) int {
	r := round(args{L, name}.number(1))
	if r == 0 {
		r = 0 // not -0
	}
	L.Push(glua.LNumber(r))
	return 1
}

// stringChar is string.char(...), refusing a code outside 0..255.
func stringChar(L *glua.LState) int {
	a := args{L, "char"}
	b := make([]byte, L.GetTop())
	for i := range b {
		c := a.int(i + 1)
		if uint(c) > 255 {
			a.argError(i+1, "value out of range")
		}
		b[i] = byte(c)
	}
	L.Push(glua.LString(b))
	return 1
}

// osRemove is os.remove(name): true, or luaL_fileresult's triple.
func osRemove(L *glua.LState) int {
	name := args{L, "remove"}.string(1)
	return fileResult(L, os.Remove(name), name)
}

// osRename is os.rename(from, to): true, or luaL_fileresult's triple (without a name).
func osRename(L *glua.LState) int {
	a := args{L, "rename"}
	return fileResult(L, os.Rename(a.string(1), a.string(2)), "")
}

// requireAsLua54 wraps gopher-lua's require so that a module it cannot find is reported as
// Lua 5.4 reports it: "module 'x' not found:" and what was tried, a line each.
func requireAsLua54(req glua.LGFunction) glua.LGFunction {
	return func(L *glua.LState) (n int) {
		name := args{L, "require"}.string(1)
		defer func() {
			if r := recover(); r != nil {
				apiErr, ok := r.(*glua.ApiError)
				if !ok {
					panic(r)
				}
				msg, ok := apiErr.Object.(glua.LString)
				prefix := "module " + name + " not found:"
				i := strings.Index(string(msg), prefix)
				if !ok || i < 0 {
					panic(r)
				}
				tried := strings.TrimSuffix(string(msg[i+len(prefix):]), ", ")
				L.Error(glua.LString(where(L, 1)+"module '"+name+"' not found:"+tried), 0)
			}
		}()
		return req(L)
	}
}

// The utf8 library of Lua 5.4, strict (no surrogates, no code past 10FFFF).

func utf8Char(L *glua.LState) int {
	a := args{L, "char"}
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		c := a.int(i)
		if uint(c) > 0x7FFFFFFF {
			a.argError(i, "value out of range")
		}
		b.WriteString(utf8Encode(c))
	}
	L.Push(glua.LString(b.String()))
	return 1
}

// utf8Encode is c in UTF-8, extended as Lua's to 6 bytes for codes up to 7FFFFFFF.
func utf8Encode(c int) string {
	if c < 0x80 {
		return string(rune(c))
	}
	var buf [8]byte
	n := 7
	limit := 0x3f
	for c > limit {
		buf[n] = byte(0x80 | c&0x3f)
		n--
		c >>= 6
		limit >>= 1
	}
	buf[n] = byte(^limit<<1 | c)
	return string(buf[n:])
}

// utf8Decode decodes the sequence at s[i:], strictly: its code and length, or ok false.
func utf8Decode(s string, i int) (code, size int, ok bool) {
	c := int(s[i])
	if c < 0x80 {
		return c, 1, true
	}
	if c < 0xC0 {
		return 0, 0, false
	}
	limits := []int{^0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000}
	count := 0
	res := 0
	for ; c&0x40 != 0; c <<= 1 {
		count++
		if i+count >= len(s) {
			return 0, 0, false
		}
		cc := int(s[i+count])
		if cc&0xC0 != 0x80 {
			return 0, 0, false
		}
		res = res<<6 | cc&0x3F
	}
	res |= (c & 0x7F) << (count * 5)
	if count > 5 || res > 0x7FFFFFFF || res < limits[count] || res > 0x10FFFF || res >= 0xD800 && res <= 0xDFFF {
		return 0, 0, false
	}
	return res, count + 1, true
}

// byteRange is the positions i and j (1-based, negative from the end) of s, as 0-based bounds.
func byteRange(i, length int) int {
	if i >= 0 {
		return i
	}
	if -i > length {
		return 0
	}
	return length + i + 1
}

func utf8Codepoint(L *glua.LState) int {
	a := args{L, "codepoint"}
	s := a.string(1)
	i := byteRange(a.optInt(2, 1), len(s))
	j := byteRange(a.optInt(3, i), len(s))
	if i < 1 {
		a.argError(2, "out of bounds")
	}
	if j > len(s) {
		a.argError(3, "out of bounds")
	}
	n := 0
	pushMany(L, "stack overflow (string slice too long)", func() {
		for p := i - 1; p < j; {
			code, size, ok := utf8Decode(s, p)
			if !ok {
				L.RaiseError("invalid UTF-8 code")
			}
			L.Push(glua.LNumber(code))
			n++
			p += size
		}
	})
	return n
}

func utf8Len(L *glua.LState) int {
	a := args{L, "len"}
	s := a.string(1)
	i := byteRange(a.optInt(2, 1), len(s))
	j := byteRange(a.optInt(3, -1), len(s))
	if i < 1 || i > len(s)+1 {
		a.argError(2, "initial position out of bounds")
	}
	if j > len(s) {
		a.argError(3, "final position out of bounds")
	}
	n := 0
	for p := i - 1; p < j; n++ {
		_, size, ok := utf8Decode(s, p)
		if !ok {
			L.Push(glua.LNil)
			L.Push(glua.LNumber(p + 1))
			return 2
		}
		p += size
	}
	L.Push(glua.LNumber(n))
	return 1
}

func utf8Offset(L *glua.LState) int {
	a := args{L, "offset"}
	s := a.string(1)
	n := a.int(2)
	def := 1
	if n < 0 {
		def = len(s) + 1
	}
	i := byteRange(a.optInt(3, def), len(s)) - 1
	if i < 0 || i > len(s) {
		a.argError(3, "position out of bounds")
	}
	cont := func(p int) bool { return p < len(s) && s[p]&0xC0 == 0x80 }
	if n == 0 {
		for i > 0 && cont(i) {
			i--
		}
		L.Push(glua.LNumber(i + 1))
		return 1
	}
	if cont(i) {
		L.RaiseError("initial position is a continuation byte")
	}
	if n < 0 {
		for n < 0 && i > 0 {
			i--
			for i > 0 && cont(i) {
				i--
			}
			n++
		}
	} else {
		n--
		for n > 0 && i < len(s) {
			i++
			for cont(i) {
				i++
			}
			n--
		}
	}
	if n == 0 {
		L.Push(glua.LNumber(i + 1))
	} else {
		L.Push(glua.LNil)
	}
	return 1
}

func utf8Codes(L *glua.LState) int {
	s := args{L, "codes"}.string(1)
	L.Push(L.NewFunction(func(L *glua.LState) int {
		a := args{L, "codes"}
		str := a.string(1)
		n := a.int(2) // the previous character's position: the byte after its first
		for n > 0 && n < len(str) && str[n]&0xC0 == 0x80 {
			n++
		}
		if n < 0 || n >= len(str) {
			return 0
		}
		code, size, ok := utf8Decode(str, n)
		if !ok || n+size < len(str) && str[n+size]&0xC0 == 0x80 {
			L.RaiseError("invalid UTF-8 code")
		}
		L.Push(glua.LNumber(n + 1))
		L.Push(glua.LNumber(code))
		return 2
	}))
	L.Push(glua.LString(s))
	L.Push(glua.LNumber(0))
	return 3
}
