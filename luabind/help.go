package luabind

import (
	"io"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	lua54 "github.com/udplab/udplab/lua"
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

// helpCall is help([what]): with no argument, one line per call; with a call or its name, its
// synopsis, return values and errors; with a constant's name (or value), what it is and where it
// is used; with a socket, its state and methods; with one of Lua's functions, where the manual
// describes it.
func (rt *Runtime) helpCall(a args) int {
	L := a.L
	w := rt.stdout()
	width := 80
	if rt.opts.Width != nil {
		if n := rt.opts.Width(); n >= 20 {
			width = n
		}
	}
	if L.GetTop() == 0 {
		sorted := append([]*binding(nil), rt.bindings...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
		var b strings.Builder
		b.WriteString(wrap("udplab's calls (help(name) for one of them, help(\"SO_BROADCAST\") for a constant):", width, 0, 0))
		for _, bd := range sorted {
			b.WriteString(wrap("  "+padRight(bd.name, 12)+bd.help.summary, width, 14, 14))
		}
		b.WriteString(wrap("An address is host, port or \"host:port\" or {family=AF_INET, addr=\"127.0.0.1\", port=43211}.", width, 0, 0))
		io.WriteString(w, b.String())
		return 0
	}
	text, ok := "", false
	switch v := L.Get(1).(type) {
	case lua.LString:
		if b, found := rt.lookupBinding(string(v)); found {
			text, ok = bindingHelp(b), true
		} else {
			text, ok = rt.constantHelp(string(v))
		}
	case *lua.LFunction:
		if b, found := rt.lookupBinding(rt.funcNames[v]); found {
			text, ok = bindingHelp(b), true
		} else {
			text, ok = luaFunctionHelp(L, v)
		}
	case lua.LNumber:
		text, ok = rt.valueHelp(v)
	case *lua.LUserData:
		if _, isSocket := v.Value.(*socket); isSocket {
			text, ok = rt.socketHelp(L, v), true
		}
	}
	if !ok {
		a.argError(1, "no help for "+lua54.ToString(L, L.Get(1)))
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		lead := len(line) - len(strings.TrimLeft(line, " "))
		keep := lead
		if strings.HasPrefix(line, "  s:") { // a socket's method, its name padded to a column
			keep = 16
		}
		b.WriteString(wrap(line, width, keep, max(keep, lead+2)))
	}
	io.WriteString(w, b.String())
	return 0
}

// SetWidth makes help wrap its text to width() columns (a terminal's, as it is now).
func (rt *Runtime) SetWidth(width func() int) {
	rt.opts.Width = width
}

// bindingHelp is the help text of one call.
func bindingHelp(b *binding) string {
	e := b.help
	var sb strings.Builder
	sb.WriteString(e.synopsis + "\n  " + e.summary + "\nreturns\n  " + e.returns + "\n")
	if e.errors != "" {
		sb.WriteString("errors\n")
		for _, line := range strings.Split(e.errors, "\n") {
			sb.WriteString("  " + line + "\n")
		}
	}
	return sb.String()
}

// wrap breaks line at word boundaries to fit width columns, indenting the lines after the first
// by indent spaces; its first keep bytes (its indentation, a padded column) stay as they are, and
// a word longer than a line stays whole.
func wrap(line string, width, keep, indent int) string {
	if len(line) <= width {
		return line + "\n"
	}
	var b strings.Builder
	keep = min(keep, len(line))
	col := keep
	b.WriteString(line[:keep])
	first := true
	for _, word := range strings.Fields(line[keep:]) {
		switch {
		case first:
		case col+1+len(word) > width:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col = indent
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += len(word)
		first = false
	}
	b.WriteByte('\n')
	return b.String()
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s + " "
	}
	return s + strings.Repeat(" ", n-len(s))
}
