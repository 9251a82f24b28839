package console

import (
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// completer completes the name before the cursor: a global or constant (SO_BR → SO_BROADCAST),
// a field after "table." (string.fo → string.format), or a socket method after "s:".
type completer struct {
	L *lua.LState
}

// Do implements readline.AutoCompleter: it returns the possible endings of the word before pos
// and the length of that word's last part.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	start := pos
	for start > 0 && isNameRune(line[start-1]) {
		start--
	}
	word := string(line[start:pos])
	var table lua.LValue = c.L.G.Global
	if start > 0 && (line[start-1] == '.' || line[start-1] == ':') {
		objEnd := start - 1
		objStart := objEnd
		for objStart > 0 && isNameRune(line[objStart-1]) {
			objStart--
		}
		obj := c.L.G.Global.RawGetString(string(line[objStart:objEnd]))
		if line[start-1] == ':' {
			// A method's table is the __index of the value's metatable; read raw, so that
			// completing never runs Lua code or raises.
			mt, _ := c.L.GetMetatable(obj).(*lua.LTable)
			if mt == nil {
				return nil, 0
			}
			table = mt.RawGetString("__index")
		} else {
			table = obj
		}
	}
	t, ok := table.(*lua.LTable)
	if !ok {
		return nil, 0
	}
	var names []string
	t.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); ok && strings.HasPrefix(string(s), word) && string(s) != word {
			names = append(names, string(s))
		}
	})
	sort.Strings(names)
	endings := make([][]rune, len(names))
	for i, n := range names {
		endings[i] = []rune(n[len(word):])
	}
	return endings, len([]rune(word))
}

func isNameRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}
