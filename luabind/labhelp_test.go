package luabind

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The help of the hosts' and networks' methods names exactly the methods they have.
func TestLabMethodsHaveHelp(t *testing.T) {
	var out bytes.Buffer
	_, rt := newState(t, &out)
	for _, tc := range []struct {
		methods *lua.LTable
		help    []helpEntry
	}{
		{rt.hostMethodsMT.RawGetString("__index").(*lua.LTable), hostMethodHelp},
		{rt.networkMethodsMT.RawGetString("__index").(*lua.LTable), networkMethodHelp},
	} {
		var have, described []string
		tc.methods.ForEach(func(k, _ lua.LValue) { have = append(have, k.String()) })
		for _, e := range tc.help {
			described = append(described, methodName(e.synopsis))
			if e.summary == "" || e.returns == "" {
				t.Errorf("help of %s is incomplete: %+v", e.synopsis, e)
			}
		}
		sort.Strings(have)
		sort.Strings(described)
		if strings.Join(have, " ") != strings.Join(described, " ") {
			t.Errorf("methods %v, described %v", have, described)
		}
	}
}
