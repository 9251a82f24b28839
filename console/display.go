package console

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	lua54 "github.com/udplab/udplab/lua"
	"github.com/udplab/udplab/sock"
)

// How the console shows the values an expression gives: strings quoted and escaped as Lua reads
// them back (so that "\0\1\27[31m" shows its bytes instead of turning the terminal red, and an
// empty datagram is ""), long ones cut with their length; tables by their contents, sorted, two
// levels deep; a value with __tostring through it; a failure triple with its errno's name.
// print still prints as Lua does.

const (
	maxShownString = 200 // bytes of a string shown before it is cut
	maxShownItems  = 40  // entries of a table shown before it is cut
	maxShownDepth  = 2   // levels of nested tables shown
)

// palette is the colours of the console: empty when colour is off.
type palette struct {
	str, num, keyword, err, dim, reset string
}

// colours is the palette of a terminal that shows colour.
var colours = palette{str: "\x1b[32m", num: "\x1b[36m", keyword: "\x1b[35m", err: "\x1b[31m", dim: "\x1b[2m", reset: "\x1b[0m"}

// paint wraps s in colour c, when there is one.
func (p palette) paint(c, s string) string {
	if c == "" {
		return s
	}
	return c + s + p.reset
}

// display shows values at the console: in L, with the colours p, naming udplab's own functions
// with name.
type display struct {
	L    *lua.LState
	p    palette
	name func(*lua.LFunction) (string, bool)
}

// showValues is the line the console prints for the values of an expression.
func (d display) showValues(values []lua.LValue) string {
	if failure, ok := failureTriple(values); ok {
		return failure(d.p)
	}
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = d.showValue(v, 0)
	}
	return strings.Join(parts, "\t")
}

// failureTriple recognises luaposix's nil, message, errno, and shows it with the errno's name:
// nil  Connection refused  111  -- ECONNREFUSED.
func failureTriple(values []lua.LValue) (func(palette) string, bool) {
	if len(values) != 3 || values[0] != lua.LNil {
		return nil, false
	}
	msg, ok1 := values[1].(lua.LString)
	num, ok2 := values[2].(lua.LNumber)
	if !ok1 || !ok2 || float64(num) != float64(int(num)) {
		return nil, false
	}
	e := unix.Errno(int(num))
	name := sock.ErrnoName(e)
	if name == "" || sock.Strerror(e) != string(msg) {
		return nil, false
	}
	return func(p palette) string {
		return p.paint(p.keyword, "nil") + "\t" + p.paint(p.err, string(msg)) + "\t" + p.paint(p.num, lua54.Number(float64(num))) + "\t" + p.paint(p.dim, "-- "+name)
	}, true
}

// showValue shows v at nesting depth.
func (d display) showValue(v lua.LValue, depth int) string {
	L, p := d.L, d.p
	switch v := v.(type) {
	case *lua.LFunction:
		if name, ok := d.name(v); ok {
			return "function: " + name + " (udplab)" // where Lua shows only its address
		}
	case lua.LString:
		return p.paint(p.str, quote(string(v)))
	case lua.LNumber:
		return p.paint(p.num, lua54.Number(float64(v)))
	case lua.LBool, *lua.LNilType:
		return p.paint(p.keyword, v.String())
	case *lua.LTable:
		if L.GetMetaField(v, "__tostring") != lua.LNil || depth >= maxShownDepth {
			return lua54.ToString(L, v)
		}
		return d.showTable(v, depth)
	}
	return lua54.ToString(L, v)
}

// showTable shows a table's entries: its array part in order, then the other keys sorted, at
// most maxShownItems of them.
func (d display) showTable(t *lua.LTable, depth int) string {
	L, p := d.L, d.p
	var items []string
	n := t.Len()
	for i := 1; i <= n && i <= maxShownItems; i++ {
		items = append(items, d.showValue(t.RawGetInt(i), depth+1))
	}
	type entry struct{ sortKey, text string }
	var keyed []entry
	total := n
	t.ForEach(func(k, v lua.LValue) {
		if f, ok := k.(lua.LNumber); ok && float64(f) == float64(int(f)) && int(f) >= 1 && int(f) <= n {
			return
		}
		total++
		var key string
		if ks, ok := k.(lua.LString); ok && isIdentifier(string(ks)) {
			key = string(ks)
		} else {
			key = "[" + display{L: L, name: d.name}.showValue(k, maxShownDepth) + "]"
		}
		keyed = append(keyed, entry{key, key + "=" + d.showValue(v, depth+1)})
	})
	sort.Slice(keyed, func(i, j int) bool { return keyed[i].sortKey < keyed[j].sortKey })
	for _, e := range keyed {
		if len(items) >= maxShownItems {
			break
		}
		items = append(items, e.text)
	}
	if total > len(items) {
		items = append(items, p.paint(p.dim, fmt.Sprintf("... (%d more)", total-len(items))))
	}
	return "{" + strings.Join(items, ", ") + "}"
}

// quote writes s as a Lua string literal that reads back as s: printable text as it is, the
// usual escapes, and any other byte as a decimal escape; cut after maxShownString bytes, with
// the length.
func quote(s string) string {
	shown := s
	if len(s) > maxShownString {
		shown = s[:maxShownString]
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(shown); {
		c := shown[i]
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\v':
			b.WriteString(`\v`)
		default:
			if c >= 0x20 && c < 0x7f {
				b.WriteByte(c)
				break
			}
			if r, size := utf8.DecodeRuneInString(shown[i:]); r != utf8.RuneError && c >= 0x80 && strconv.IsPrint(r) {
				b.WriteString(shown[i : i+size])
				i += size
				continue
			}
			// a decimal escape takes up to 3 digits: pad it when a digit follows
			if i+1 < len(shown) && shown[i+1] >= '0' && shown[i+1] <= '9' {
				fmt.Fprintf(&b, `\%03d`, c)
			} else {
				fmt.Fprintf(&b, `\%d`, c)
			}
		}
		i++
	}
	if len(shown) < len(s) {
		fmt.Fprintf(&b, `..." (%d bytes)`, len(s))
		return b.String()
	}
	b.WriteByte('"')
	return b.String()
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r != '_' && !(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z') && !(i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// wrapWords breaks text into lines of at most width columns at spaces (a word longer than a line
// stays whole), each ended by a newline.
func wrapWords(text string, width int) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(text) {
		switch {
		case col == 0:
		case col+1+len(word) > width:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += len(word)
	}
	b.WriteByte('\n')
	return b.String()
}
