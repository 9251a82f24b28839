package lua

import (
	"strconv"
	"strings"

	glua "github.com/yuin/gopher-lua"
)

// Lua's patterns, a port of lstrlib.c's matcher (match, classEnd, singlematch, the captures),
// and the functions that use them: string.find, string.match, string.gmatch and string.gsub.
// gopher-lua's own matcher lacks %f (frontier) and answers some patterns otherwise ("(" fails,
// a pattern ending in "%" matches), and its gsub takes any replacement value.

const (
	maxCaptures    = 32 // LUA_MAXCAPTURES
	maxMatchCalls  = 200
	capUnfinished  = -1
	capPosition    = -2
	patternSpecial = "^$*+?.([%-"
)

type capture struct{ init, len int }

// matchState is one match of a pattern against a subject, as lstrlib.c's MatchState.
type matchState struct {
	L          *glua.LState
	src, p     string
	matchdepth int
	level      int
	capture    [maxCaptures]capture
}

func (ms *matchState) fail(msg string) { ms.L.RaiseError("%s", msg) }

func (ms *matchState) checkCapture(l byte) int {
	i := int(l) - '1'
	if i < 0 || i >= ms.level || ms.capture[i].len == capUnfinished {
		ms.fail("invalid capture index %" + strconv.Itoa(i+1))
	}
	return i
}

func (ms *matchState) captureToClose() int {
	for level := ms.level - 1; level >= 0; level-- {
		if ms.capture[level].len == capUnfinished {
			return level
		}
	}
	ms.fail("invalid pattern capture")
	return 0
}

// at is the pattern's byte at p, or 0 past its end (as C's terminating zero).
func (ms *matchState) at(p int) byte {
	if p < len(ms.p) {
		return ms.p[p]
	}
	return 0
}

func (ms *matchState) classEnd(p int) int {
	c := ms.at(p)
	p++
	switch c {
	case '%':
		if p >= len(ms.p) {
			ms.fail("malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		if ms.at(p) == '^' {
			p++
		}
		for {
			if p >= len(ms.p) {
				ms.fail("malformed pattern (missing ']')")
			}
			c := ms.p[p]
			p++
			if c == '%' && p < len(ms.p) {
				p++
			}
			if ms.at(p) == ']' {
				break
			}
		}
		return p + 1
	}
	return p
}

func matchClass(c, cl byte) bool {
	var res bool
	lower := cl | 0x20
	switch lower {
	case 'a':
		res = isAlpha(c) && c != '_'
	case 'c':
		res = c < 0x20 || c == 0x7f
	case 'd':
		res = isDigit(c)
	case 'g':
		res = c > 0x20 && c < 0x7f
	case 'l':
		res = c >= 'a' && c <= 'z'
	case 'p':
		res = c > 0x20 && c < 0x7f && !isDigit(c) && !(isAlpha(c) && c != '_')
	case 's':
		res = c == ' ' || c >= '\t' && c <= '\r'
	case 'u':
		res = c >= 'A' && c <= 'Z'
	case 'w':
		res = isDigit(c) || isAlpha(c) && c != '_'
	case 'x':
		res = isHex(c)
	case 'z':
		res = c == 0 // deprecated, still in lstrlib.c
	default:
		return cl == c
	}
	if cl >= 'A' && cl <= 'Z' {
		return !res
	}
	return res
}

// matchBracketClass matches c against the class [...] from p to ec (the ']').
func (ms *matchState) matchBracketClass(c byte, p, ec int) bool {
	sig := true
	if ms.at(p+1) == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case ms.p[p] == '%':
			p++
			if matchClass(c, ms.at(p)) {
				return sig
			}
		case ms.at(p+1) == '-' && p+2 < ec:
			p += 2
			if ms.p[p-2] <= c && c <= ms.p[p] {
				return sig
			}
		case ms.p[p] == c:
			return sig
		}
	}
	return !sig
}

func (ms *matchState) singleMatch(s, p, ep int) bool {
	if s >= len(ms.src) {
		return false
	}
	c := ms.src[s]
	switch ms.p[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, ms.at(p+1))
	case '[':
		return ms.matchBracketClass(c, p, ep-1)
	}
	return ms.p[p] == c
}

func (ms *matchState) matchBalance(s, p int) int {
	if p+1 >= len(ms.p) {
		ms.fail("malformed pattern (missing arguments to '%b')")
	}
	if s >= len(ms.src) || ms.src[s] != ms.p[p] {
		return -1
	}
	b, e := ms.p[p], ms.p[p+1]
	cont := 1
	for s++; s < len(ms.src); s++ {
		switch ms.src[s] {
		case e:
			if cont--; cont == 0 {
				return s + 1
			}
		case b:
			cont++
		}
	}
	return -1
}

func (ms *matchState) maxExpand(s, p, ep int) int {
	i := 0
	for ms.singleMatch(s+i, p, ep) {
		i++
	}
	for ; i >= 0; i-- {
		if res := ms.match(s+i, ep+1); res >= 0 {
			return res
		}
	}
	return -1
}

func (ms *matchState) minExpand(s, p, ep int) int {
	for {
		if res := ms.match(s, ep+1); res >= 0 {
			return res
		}
		if !ms.singleMatch(s, p, ep) {
			return -1
		}
		s++
	}
}

func (ms *matchState) startCapture(s, p, what int) int {
	if ms.level >= maxCaptures {
		ms.fail("too many captures")
	}
	ms.capture[ms.level] = capture{s, what}
	ms.level++
	res := ms.match(s, p)
	if res < 0 {
		ms.level--
	}
	return res
}

func (ms *matchState) endCapture(s, p int) int {
	l := ms.captureToClose()
	ms.capture[l].len = s - ms.capture[l].init
	res := ms.match(s, p)
	if res < 0 {
		ms.capture[l].len = capUnfinished
	}
	return res
}

func (ms *matchState) matchCapture(s int, l byte) int {
	i := ms.checkCapture(l)
	c := ms.capture[i]
	if c.len >= 0 && len(ms.src)-s >= c.len && ms.src[c.init:c.init+c.len] == ms.src[s:s+c.len] {
		return s + c.len
	}
	return -1
}

// match matches the pattern from p against the subject from s: where the match ends, or -1.
func (ms *matchState) match(s, p int) int {
	if ms.matchdepth == 0 {
		ms.fail("pattern too complex")
	}
	ms.matchdepth--
	defer func() { ms.matchdepth++ }()
	for p < len(ms.p) {
		switch ms.p[p] {
		case '(':
			if ms.at(p+1) == ')' {
				return ms.startCapture(s, p+2, capPosition)
			}
			return ms.startCapture(s, p+1, capUnfinished)
		case ')':
			return ms.endCapture(s, p+1)
		case '$':
			if p+1 == len(ms.p) {
				if s == len(ms.src) {
					return s
				}
				return -1
			}
		case '%':
			switch ms.at(p + 1) {
			case 'b':
				if s = ms.matchBalance(s, p+2); s < 0 {
					return -1
				}
				p += 4
				continue
			case 'f':
				p += 2
				if ms.at(p) != '[' {
					ms.fail("missing '[' after '%f' in pattern")
				}
				ep := ms.classEnd(p)
				var previous, current byte
				if s > 0 {
					previous = ms.src[s-1]
				}
				if s < len(ms.src) {
					current = ms.src[s]
				}
				if !ms.matchBracketClass(previous, p, ep-1) && ms.matchBracketClass(current, p, ep-1) {
					p = ep
					continue
				}
				return -1
			case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				if s = ms.matchCapture(s, ms.p[p+1]); s < 0 {
					return -1
				}
				p += 2
				continue
			}
		}
		// a single character class, and its suffix
		ep := ms.classEnd(p)
		suffix := ms.at(ep)
		if !ms.singleMatch(s, p, ep) {
			if suffix == '*' || suffix == '?' || suffix == '-' {
				p = ep + 1
				continue
			}
			return -1
		}
		switch suffix {
		case '?':
			if res := ms.match(s+1, ep+1); res >= 0 {
				return res
			}
			p = ep + 1
		case '+':
			return ms.maxExpand(s+1, p, ep)
		case '*':
			return ms.maxExpand(s, p, ep)
		case '-':
			return ms.minExpand(s, p, ep)
		default:
			s++
			p = ep
		}
	}
	return s
}

// oneCapture is capture i of a match from s to e (the whole match when there are none): a
// string, or a position.
func (ms *matchState) oneCapture(i, s, e int) glua.LValue {
	if i >= ms.level {
		if i != 0 {
			ms.fail("invalid capture index %" + strconv.Itoa(i+1))
		}
		return glua.LString(ms.src[s:e])
	}
	c := ms.capture[i]
	switch c.len {
	case capUnfinished:
		ms.fail("unfinished capture")
	case capPosition:
		return glua.LNumber(c.init + 1)
	}
	return glua.LString(ms.src[c.init : c.init+c.len])
}

// pushCaptures pushes the captures of a match from s to e (the whole match when there are none
// and s >= 0), and returns how many.
func (ms *matchState) pushCaptures(s, e int) int {
	n := ms.level
	if n == 0 && s >= 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		ms.L.Push(ms.oneCapture(i, s, e))
	}
	return n
}

func newMatchState(L *glua.LState, src, p string) *matchState {
	return &matchState{L: L, src: src, p: p, matchdepth: maxMatchCalls}
}

func (ms *matchState) reset() { ms.level, ms.matchdepth = 0, maxMatchCalls }

// startAt is the 0-based start a 1-based position pos gives in a subject of length n (posrelatI).
func startAt(pos, n int) int {
	switch {
	case pos > 0:
		return pos - 1
	case pos == 0 || pos < -n:
		return 0
	}
	return n + pos
}

// findAux is string.find (find) or string.match.
func findAux(L *glua.LState, find bool) int {
	fname := map[bool]string{true: "find", false: "match"}[find]
	a := args{L, fname}
	s, p := a.string(1), a.string(2)
	init := startAt(a.optInt(3, 1), len(s))
	if init > len(s) {
		L.Push(glua.LNil)
		return 1
	}
	if find && (glua.LVAsBool(L.Get(4)) || !strings.ContainsAny(p, patternSpecial)) {
		if i := strings.Index(s[init:], p); i >= 0 {
			L.Push(glua.LNumber(init + i + 1))
			L.Push(glua.LNumber(init + i + len(p)))
			return 2
		}
		L.Push(glua.LNil)
		return 1
	}
	anchor := strings.HasPrefix(p, "^")
	if anchor {
		p = p[1:]
	}
	ms := newMatchState(L, s, p)
	for s1 := init; ; s1++ {
		ms.reset()
		if e := ms.match(s1, 0); e >= 0 {
			if find {
				L.Push(glua.LNumber(s1 + 1))
				L.Push(glua.LNumber(e))
				return ms.pushCaptures(-1, 0) + 2
			}
			return ms.pushCaptures(s1, e)
		}
		if s1 >= len(s) || anchor {
			break
		}
	}
	L.Push(glua.LNil)
	return 1
}

func strFind(L *glua.LState) int  { return findAux(L, true) }
func strMatch(L *glua.LState) int { return findAux(L, false) }

// strGmatch is string.gmatch(s, pattern[, init]).
func strGmatch(L *glua.LState) int {
	a := args{L, "gmatch"}
	s, p := a.string(1), a.string(2)
	src := startAt(a.optInt(3, 1), len(s))
	if src > len(s) {
		src = len(s) + 1
	}
	lastMatch := -1
	L.Push(L.NewFunction(func(L *glua.LState) int {
		ms := newMatchState(L, s, p)
		for ; src <= len(s); src++ {
			ms.reset()
			if e := ms.match(src, 0); e >= 0 && e != lastMatch {
				n := ms.pushCaptures(src, e)
				src, lastMatch = e, e
				return n
			}
		}
		return 0
	}))
	return 1
}

// strGsub is string.gsub(s, pattern, repl[, n]).
func strGsub(L *glua.LState) int {
	a := args{L, "gsub"}
	src, p := a.string(1), a.string(2)
	repl := L.Get(3)
	switch repl.(type) {
	case glua.LString, glua.LNumber, *glua.LTable, *glua.LFunction:
	default:
		a.typeError(3, "string/function/table")
	}
	maxN := a.optInt(4, len(src)+1)
	anchor := strings.HasPrefix(p, "^")
	if anchor {
		p = p[1:]
	}
	ms := newMatchState(L, src, p)
	var b strings.Builder
	n, changed, s, lastMatch := 0, false, 0, -1
	for n < maxN {
		ms.reset()
		if e := ms.match(s, 0); e >= 0 && e != lastMatch {
			n++
			changed = ms.addValue(&b, s, e, repl) || changed
			s, lastMatch = e, e
		} else if s < len(src) {
			b.WriteByte(src[s])
			s++
		} else {
			break
		}
		if anchor {
			break
		}
	}
	if !changed {
		L.Push(glua.LString(src))
	} else {
		b.WriteString(src[s:])
		L.Push(glua.LString(b.String()))
	}
	L.Push(glua.LNumber(n))
	return 2
}

// addValue adds the replacement of the match from s to e to b; it reports whether it changed
// the text.
func (ms *matchState) addValue(b *strings.Builder, s, e int, repl glua.LValue) bool {
	L := ms.L
	var v glua.LValue
	switch r := repl.(type) {
	case *glua.LFunction:
		L.Push(r)
		n := ms.pushCaptures(s, e)
		L.Call(n, 1)
		v = L.Get(-1)
		L.Pop(1)
	case *glua.LTable:
		v = L.GetTable(r, ms.oneCapture(0, s, e))
	default:
		text, _ := asString(r)
		ms.addString(b, s, e, text)
		return true
	}
	if !glua.LVAsBool(v) {
		b.WriteString(ms.src[s:e])
		return false
	}
	text, ok := asString(v)
	if !ok {
		ms.fail("invalid replacement value (a " + v.Type().String() + ")")
	}
	b.WriteString(text)
	return true
}

// addString adds the replacement string news, its %0 to %9 and %% expanded, to b.
func (ms *matchState) addString(b *strings.Builder, s, e int, news string) {
	for {
		i := strings.IndexByte(news, '%')
		if i < 0 {
			b.WriteString(news)
			return
		}
		b.WriteString(news[:i])
		if i+1 >= len(news) {
			ms.fail("invalid use of '%' in replacement string")
		}
		switch c := news[i+1]; {
		case c == '%':
			b.WriteByte('%')
		case c == '0':
			b.WriteString(ms.src[s:e])
		case isDigit(c):
			v, _ := asString(ms.oneCapture(int(c-'1'), s, e))
			b.WriteString(v)
		default:
			ms.fail("invalid use of '%' in replacement string")
		}
		news = news[i+2:]
	}
}
