package console

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// showValue is how the console prints a value: strings as they are at the top level (quoted
// inside a table), values with __tostring through it, and tables by their contents one level
// deep.
func showValue(L *lua.LState, v lua.LValue, top bool) string {
	switch v := v.(type) {
	case lua.LString:
		if top {
			return string(v)
		}
		return fmt.Sprintf("%q", string(v))
	case *lua.LTable:
		if L.GetMetaField(v, "__tostring") != lua.LNil {
			return L.ToStringMeta(v).String()
		}
		if !top {
			return L.ToStringMeta(v).String()
		}
		return showTable(L, v)
	}
	return L.ToStringMeta(v).String()
}

func showTable(L *lua.LState, t *lua.LTable) string {
	var items []string
	n := t.Len()
	for i := 1; i <= n; i++ {
		items = append(items, showValue(L, t.RawGetInt(i), false))
	}
	var keyed []string
	t.ForEach(func(k, v lua.LValue) {
		if f, ok := k.(lua.LNumber); ok && float64(f) == float64(int(f)) && int(f) >= 1 && int(f) <= n {
			return
		}
		key := showValue(L, k, false)
		if ks, ok := k.(lua.LString); ok && isIdentifier(string(ks)) {
			key = string(ks)
		} else {
			key = "[" + key + "]"
		}
		keyed = append(keyed, key+"="+showValue(L, v, false))
	})
	sort.Strings(keyed)
	return "{" + strings.Join(append(items, keyed...), ", ") + "}"
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
