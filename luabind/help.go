package luabind

import (
	"io"
	"regexp"
	"strings"
	"sync"

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

// FunctionName returns the name of fn when it is one of udplab's functions (or one AddFunction
// added): "recv".
func (rt *Runtime) FunctionName(fn *lua.LFunction) (string, bool) {
	name, ok := rt.funcNames[fn]
	return name, ok
}

// Help is the help of a function another package installs with AddFunction (the console's run,
// bg, jobs and stop), as help shows udplab's own.
type Help struct {
	Synopsis string // the call with its arguments: "bg(script[, arg...])"
	Summary  string // one line: what it does
	Returns  string // on success, and on failure
	Errors   string // the errno values it returns, one per line: "EAGAIN (11)  why"
	Group    string // the line of help() that lists it: "scripts"
	Type     string // the type of what it returns, for the Lua Language Server: "integer"
}

// AddFunction makes fn the global called name, which help() lists (in h.Group) and help(name)
// describes with h. It replaces a function of udplab's of that name (the console's sockets()
// also lists its jobs' sockets).
func (rt *Runtime) AddFunction(L *lua.LState, name string, fn lua.LGFunction, h Help) {
	b := &binding{name: name, group: h.Group, returns: h.Type, help: helpEntry{h.Synopsis, h.Summary, h.Returns, h.Errors},
		fn: func(_ *Runtime, a args) int { return fn(a.L) }}
	f := L.NewFunction(rt.guard(b))
	rt.funcNames[f] = name
	L.SetGlobal(name, f)
	list := make([]*binding, 0, len(rt.bindings)+1) // rt.bindings may share the package's array
	for _, old := range rt.bindings {
		if old.name != name {
			list = append(list, old)
		}
	}
	rt.bindings = append(list, b)
}

// helpGroups are the lines of help(): udplab's calls by what they are for. A function added
// with AddFunction joins the line its Help.Group names.
var helpGroups = []struct {
	label, note string
	names       []string
}{
	{"sockets", "", []string{"socket", "bind", "connect", "getsockname", "getpeername", "close", "fileno", "sockets"}},
	{"datagrams", "", []string{"send", "sendto", "recv", "recvfrom", "poll", "settimeout"}},
	{"options", "", []string{"setsockopt", "getsockopt"}},
	{"errors", "", []string{"strerror", "errname", "recverr"}},
	{"as in C", "", []string{"fatal", "signal"}},
	{"see it", "", []string{"trace", "wire", "diagram", "pcap", "label", "section", "step", "live"}},
	{"a lab", "then help(net), help(net.a)", []string{"network"}},
	{"the lesson", "its C programs", []string{"shipped"}},
	{"scripts", "udplab --list names them", []string{"jobs", "stop"}},
}

var helpBinding = binding{name: "help", fn: (*Runtime).helpCall, help: helpEntry{
	"help([what])", "list the calls, or describe one: help(send), help(SO_BROADCAST), help(s), help(net)", "nothing", ""}}

// helpCall is help([what]): with no argument, udplab's calls by what they are for; with a call
// or its name, its synopsis, return values and errors; with a constant's name (or value), what
// it is and where it is used; with the name of a module udplab ships, its functions; with a
// socket, its state and methods; with a network or a host of one, its hosts, addresses and
// methods; with one of Lua's functions, where the manual describes it; with a function written
// in Lua, the comment above its definition.
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
		io.WriteString(w, rt.helpList(width))
		return 0
	}
	text, ok := "", false
	switch v := L.Get(1).(type) {
	case lua.LString:
		if b, found := rt.lookupBinding(string(v)); found {
			text, ok = bindingHelp(b), true
		} else if text, ok = rt.constantHelp(string(v)); !ok {
			text, ok = rt.libModuleHelp(string(v))
		}
	case *lua.LFunction:
		switch b, found := rt.lookupBinding(rt.funcNames[v]); {
		case found:
			text, ok = bindingHelp(b), true
		case !v.IsG:
			text, ok = rt.luaSourceHelp(v), true
		default:
			text, ok = luaFunctionHelp(L, v)
		}
	case lua.LNumber:
		text, ok = rt.valueHelp(v)
	case *lua.LUserData:
		if _, isSocket := v.Value.(*socket); isSocket {
			text, ok = rt.socketHelp(L, v), true
		}
	case *lua.LTable:
		text, ok = rt.labHelp(v)
	}
	if !ok {
		a.argError(1, "no help for "+lua54.ToString(L, L.Get(1)))
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		lead := len(line) - len(strings.TrimLeft(line, " "))
		keep := lead
		indent := lead + 2
		switch {
		case strings.HasPrefix(line, "  s:"): // a method, its name padded to a column
			keep = 16
		case errnoLine().MatchString(line): // its reason in a column, and the lines it wraps to
			keep = len(errnoLine().FindString(line))
			indent = keep
		}
		b.WriteString(wrap(line, width, keep, max(keep, indent)))
	}
	io.WriteString(w, b.String())
	return 0
}

// errnoLine is the start of a line of help's errors, up to its reason: "  EAGAIN (11)  ".
var errnoLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^ +E[A-Z0-9]+ \(\d+\) +`) })

// helpList is help(): a line per group of calls, short enough that its heading stays on a
// 24-row screen.
func (rt *Runtime) helpList(width int) string {
	listed := map[string]bool{"help": true} // the heading names it
	var b strings.Builder
	b.WriteString(wrap("udplab's calls (help(send) describes one; help(SO_BROADCAST), help(s) too):", width, 0, 0))
	line := func(label, note string, names []string) {
		if len(names) == 0 {
			return
		}
		text := "  " + padRight(label, 12) + strings.Join(names, " ")
		if note != "" {
			text += "  (" + note + ")"
		}
		b.WriteString(wrap(text, width, 14, 14))
	}
	for _, g := range helpGroups {
		var names []string
		for _, name := range g.names {
			if _, ok := rt.lookupBinding(name); ok && !listed[name] {
				names = append(names, name)
				listed[name] = true
			}
		}
		for _, bd := range rt.bindings {
			if bd.group == g.label && !listed[bd.name] {
				names = append(names, bd.name)
				listed[bd.name] = true
			}
		}
		line(g.label, g.note, names)
	}
	var others []string // in no group: a new one's own line
	for _, bd := range rt.bindings {
		if !listed[bd.name] {
			others = append(others, bd.name)
		}
	}
	line("others", "", others)
	for _, name := range rt.libModules() { // the helpers udplab ships: require("experiment")
		m, _ := rt.libModule(name)
		var funcs []string
		for _, f := range m.entries {
			funcs = append(funcs, f.name)
		}
		line(name, `require("`+name+`"); help("`+name+`")`, funcs)
	}
	b.WriteString(wrap("An address: host, port; \"host:port\"; {family=AF_INET, addr=\"10.0.0.1\", port=9}.", width, 0, 0))
	return b.String()
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
		sb.WriteString(errnoColumns(e.errors, "  "))
	}
	return sb.String()
}

// errnoColumns lays out errno lines ("EAGAIN (11)  why") with their reasons in one column, each
// line after indent.
func errnoColumns(errors, indent string) string {
	lines := strings.Split(errors, "\n")
	width := 0
	for _, line := range lines {
		if name, _, ok := strings.Cut(line, "  "); ok {
			width = max(width, len(name))
		}
	}
	var b strings.Builder
	for _, line := range lines {
		name, why, ok := strings.Cut(line, "  ")
		if !ok {
			b.WriteString(indent + line + "\n")
			continue
		}
		b.WriteString(indent + padRight(name, width+1) + " " + strings.TrimSpace(why) + "\n")
	}
	return b.String()
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
