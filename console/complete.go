package console

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// completer completes the name before the cursor: a global or constant (SO_BR → SO_BROADCAST),
// a field after "table." (string.fo → string.format), or a socket method after "s:".
type completer struct {
	L *lua.LState
	// screen, when set, gives the terminal's size; a list longer than the screen is then shown
	// only on a second Tab, after tell says how long it is (as bash asks first).
	screen func() (cols, rows int)
	tell   func(msg string)
	asked  *string // the line for which the length was told
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
