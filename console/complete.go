package console

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/scripts"
)

// completer completes the name before the cursor: a global or constant (SO_BR → SO_BROADCAST),
// a field after "table." or "net.a." (string.fo → string.format), a method after "s:" or
// "net.a:", or inside run(" and bg(" the name of a shipped script.
type completer struct {
	L *lua.LState
	// screen, when set, gives the terminal's size; a list longer than the screen is then shown
	// only on a second Tab, after tell says how long it is (as bash asks first).
	screen func() (cols, rows int)
	tell   func(msg string)
	asked  *string // the line for which the length was told
}

// scriptArgument is a line that ends inside the first argument of run or bg: run("pi.
var scriptArgument = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\b(?:run|bg)\s*\(\s*["']([^"'\\]*)$`)
})

// Do implements readline.AutoCompleter: it returns the possible endings of the word before pos
// and the length of that word's last part.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	if m := scriptArgument().FindStringSubmatch(string(line[:pos])); m != nil {
		var names []string
		for _, s := range scripts.List() {
			if name := strings.TrimSuffix(s.Path, ".lua"); strings.HasPrefix(name, m[1]) && name != m[1] {
				names = append(names, name)
			}
		}
		return c.endings(line, names, m[1])
	}
	start := pos
	for start > 0 && isNameRune(line[start-1]) {
		start--
	}
	word := string(line[start:pos])
	tables := []*lua.LTable{c.L.G.Global}
	if start > 0 && (line[start-1] == '.' || line[start-1] == ':') {
		obj, ok := c.lookup(line[:start-1])
		if !ok {
			return nil, 0
		}
		tables = c.fieldTables(obj, line[start-1] == ':')
	}
	methods := start > 0 && line[start-1] == ':'
	seen := map[string]bool{}
	var names []string
	for _, t := range tables {
		t.ForEach(func(k, v lua.LValue) {
			if methods && v.Type() != lua.LTFunction {
				return // after ":", a method
			}
			if s, ok := k.(lua.LString); ok && strings.HasPrefix(string(s), word) && string(s) != word && !seen[string(s)] {
				seen[string(s)] = true
				names = append(names, string(s))
			}
		})
	}
	return c.endings(line, names, word)
}

// endings returns the endings of names after word, once the screen can show them all.
func (c *completer) endings(line []rune, names []string, word string) ([][]rune, int) {
	sort.Strings(names)
	if c.screen != nil && len(names) > 1 {
		if c.tooLong(names) && (c.asked == nil || *c.asked != string(line)) {
			asked := string(line)
			c.asked = &asked
			c.tell(fmt.Sprintf("%d possibilities: press Tab again to list them", len(names)))
			return nil, 0
		}
		c.asked = nil
	}
	endings := make([][]rune, len(names))
	for i, n := range names {
		endings[i] = []rune(n[len(word):])
	}
	return endings, len([]rune(word))
}

// lookup finds the value a chain of names at the end of text names (net.a, string), reading
// fields raw, and through a metatable's __index table, so that completing never runs Lua code
// or raises.
func (c *completer) lookup(text []rune) (lua.LValue, bool) {
	end := len(text)
	start := end
	for start > 0 && (isNameRune(text[start-1]) || text[start-1] == '.') {
		start--
	}
	chain := strings.Split(string(text[start:end]), ".")
	var v lua.LValue = c.L.G.Global
	for _, name := range chain {
		if name == "" {
			return nil, false
		}
		found := false
		for _, t := range c.fieldTables(v, false) {
			if f := t.RawGetString(name); f != lua.LNil {
				v, found = f, true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return v, true
}

// fieldTables are the tables whose keys are v's fields: v itself when it is a table, and the
// chain of __index tables of its metatable, its metatable's __index's metatable, and so on (a
// lab's host is a read-only table whose fields and methods come that way). When only methods
// are asked for (after ":"), v itself is left out.
func (c *completer) fieldTables(v lua.LValue, methods bool) []*lua.LTable {
	var tables []*lua.LTable
	if t, ok := v.(*lua.LTable); ok && !methods {
		tables = append(tables, t)
	}
	for range 8 {
		mt, ok := rawMetatable(c.L, v).(*lua.LTable)
		if !ok {
			break
		}
		index, ok := mt.RawGetString("__index").(*lua.LTable)
		if !ok {
			break
		}
		tables = append(tables, index)
		v = index
	}
	return tables
}

// rawMetatable is v's metatable, even when a __metatable field hides it from getmetatable.
func rawMetatable(L *lua.LState, v lua.LValue) lua.LValue {
	switch v := v.(type) {
	case *lua.LTable:
		return v.Metatable
	case *lua.LUserData:
		return v.Metatable
	}
	return L.GetMetatable(v)
}

// tooLong says the list of names would scroll the prompt off the screen.
func (c *completer) tooLong(names []string) bool {
	cols, rows := c.screen()
	if cols <= 0 || rows <= 0 {
		return false
	}
	width := 0
	for _, n := range names {
		width = max(width, len(n)+1)
	}
	perLine := max(1, (cols-1)/width)
	return (len(names)+perLine-1)/perLine > rows-2
}

func isNameRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
