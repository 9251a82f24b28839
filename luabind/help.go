package luabind

import (
	"io"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// helpEntry is the help text of one call: in the spirit of a man page's SYNOPSIS, RETURN VALUE
// and ERRORS, in udplab's own words.
type helpEntry struct {
	synopsis string // the call with its arguments
	summary  string // one line: what it does
	returns  string // on success, and on failure
	errors   string // the errno values the lesson meets, one per line
}

// lookupBinding returns the binding called name.
func (rt *Runtime) lookupBinding(name string) (*binding, bool) {
	for _, b := range rt.bindings {
		if b.name == name {
			return b, true
		}
	}
	return nil, false
}

var helpBinding = binding{name: "help", fn: (*Runtime).helpCall, help: helpEntry{
	"help([call])", "list the calls, or describe one: help(send), help(\"sendto\")", "nothing", ""}}

// helpCall is help([call]): with no argument, one line per call; with a function or its name,
// the call's synopsis, return values and errors.
func (rt *Runtime) helpCall(a args) int {
	L := a.L
	w := rt.stdout()
	if L.GetTop() == 0 {
		sorted := append([]*binding(nil), rt.bindings...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
		io.WriteString(w, "udplab's calls (help(name) for one of them):\n")
		for _, b := range sorted {
			io.WriteString(w, "  "+padRight(b.name, 12)+b.help.summary+"\n")
		}
		io.WriteString(w, "An address is host, port or {family=AF_INET, addr=\"127.0.0.1\", port=43211}.\n")
		return 0
	}
	name := ""
	switch v := L.Get(1).(type) {
	case lua.LString:
		name = string(v)
	case *lua.LFunction:
		name = rt.funcNames[v]
	}
	b, ok := rt.lookupBinding(name)
	if !ok {
		a.argError(1, "no help for "+lua.LVAsString(L.ToStringMeta(L.Get(1))))
	}
	e := b.help
	var sb strings.Builder
	sb.WriteString(e.synopsis + "\n  " + e.summary + "\nreturns\n  " + e.returns + "\n")
	if e.errors != "" {
		sb.WriteString("errors\n")
		for _, line := range strings.Split(e.errors, "\n") {
			sb.WriteString("  " + line + "\n")
		}
	}
	io.WriteString(w, sb.String())
	return 0
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s + " "
	}
	return s + strings.Repeat(" ", n-len(s))
}
