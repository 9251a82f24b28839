package luabind

import (
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Help for what is written in Lua: the modules udplab ships in lib/ (help("experiment") lists
// the helpers of require("experiment") with the comments that document them in its source), and
// a function written in Lua, described by the comment above its definition.

// luaModule is what a module's source says of itself: its opening comment, and each comment
// that documents one of its fields ("-- experiment.call(name, ...) calls ..."), in order.
type luaModule struct {
	header  []string
	entries []luaFieldDoc
}

type luaFieldDoc struct {
	name    string   // "call"
	comment []string // its comment's lines, without "-- "
}

// readLuaModule reads the comments of the source src of the module called name.
func readLuaModule(src, name string) luaModule {
	var m luaModule
	lines := strings.Split(src, "\n")
	i := 0
	for ; i < len(lines) && strings.HasPrefix(lines[i], "--"); i++ {
		m.header = append(m.header, uncomment(lines[i]))
	}
	field := regexp.MustCompile(`^-- ` + regexp.QuoteMeta(name) + `\.([A-Za-z_][A-Za-z0-9_]*)`)
	for ; i < len(lines); i++ {
		f := field.FindStringSubmatch(lines[i])
		if f == nil || strings.HasPrefix(lines[i-1], "--") {
			continue
		}
		end := i
		for end < len(lines) && strings.HasPrefix(lines[end], "--") {
			end++
		}
		m.entries = append(m.entries, luaFieldDoc{name: f[1], comment: commentAbove(lines, end)})
	}
	return m
}

// commentAbove is the comment on the lines just above line i, without "-- ".
func commentAbove(lines []string, i int) []string {
	start := i
	for start > 0 && strings.HasPrefix(lines[start-1], "--") {
		start--
	}
	var comment []string
	for _, line := range lines[start:i] {
		comment = append(comment, uncomment(line))
	}
	return comment
}

func uncomment(line string) string {
	return strings.TrimPrefix(strings.TrimPrefix(line, "--"), " ")
}

// libModules are the names of the modules udplab ships in lib/, sorted.
func (rt *Runtime) libModules() []string {
	if rt.opts.Lib == nil {
		return nil
	}
	files, _ := fs.Glob(rt.opts.Lib, "*.lua")
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(f, ".lua")
	}
	sort.Strings(names)
	return names
}

// libModule reads the module called name that udplab ships in lib/.
func (rt *Runtime) libModule(name string) (luaModule, bool) {
	if rt.opts.Lib == nil {
		return luaModule{}, false
	}
	src, err := fs.ReadFile(rt.opts.Lib, name+".lua")
	if err != nil {
		return luaModule{}, false
	}
	return readLuaModule(string(src), name), true
}

// libModuleHelp describes a module udplab ships: its opening comment, then each function's.
func (rt *Runtime) libModuleHelp(name string) (string, bool) {
	m, ok := rt.libModule(name)
	if !ok {
		return "", false
	}
	var b strings.Builder
	b.WriteString(`local ` + name + ` = require("` + name + `")` + "\n")
	for _, p := range paragraphs(m.header) {
		b.WriteString("  " + p + "\n")
	}
	for _, f := range m.entries {
		text := strings.Join(paragraphs(f.comment), " ")
		if call := callAtStart(text); call != "" && strings.HasPrefix(text[len(call):], " ") {
			text = call + "\n  " + text[len(call)+1:] // the call, then what it does
		}
		b.WriteString(text + "\n")
	}
	return b.String(), true
}

// callAtStart is the call text starts with, up to its closing parenthesis: "f(a, g(b))".
func callAtStart(text string) string {
	open := strings.IndexByte(text, '(')
	if open < 0 || strings.ContainsAny(text[:open], " ,") {
		return ""
	}
	depth := 0
	for i := open; i < len(text); i++ {
		switch text[i] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return text[:i+1]
			}
		}
	}
	return ""
}

// paragraphs joins a comment's lines into paragraphs, to be wrapped to the terminal: a blank
// line separates them, and an indented line (an example) stays a line of its own.
func paragraphs(lines []string) []string {
	var out []string
	joining := false
	for _, line := range lines {
		switch {
		case strings.TrimSpace(line) == "":
			out = append(out, "")
			joining = false
		case strings.HasPrefix(line, " "):
			out = append(out, line)
			joining = false
		case joining:
			out[len(out)-1] += " " + line
		default:
			out = append(out, line)
			joining = true
		}
	}
	return out
}

// luaSourceHelp is the comment above the definition of fn, a function written in Lua, read from
// its file (or from lib/ inside udplab), and where it is defined.
func (rt *Runtime) luaSourceHelp(fn *lua.LFunction) string {
	where := fn.Proto.SourceName
	var src []byte
	var err error
	if file, ok := strings.CutPrefix(where, "udplab:lib/"); ok && rt.opts.Lib != nil {
		src, err = fs.ReadFile(rt.opts.Lib, file)
	} else {
		src, err = os.ReadFile(where)
	}
	var comment []string
	if line := fn.Proto.LineDefined; err == nil && line >= 1 {
		if lines := strings.Split(string(src), "\n"); line <= len(lines) {
			comment = commentAbove(lines, line-1)
		}
	}
	var b strings.Builder
	for _, p := range paragraphs(comment) {
		b.WriteString(p + "\n")
	}
	b.WriteString("a function written in Lua, defined at " + where + ":" + strconv.Itoa(fn.Proto.LineDefined) + "\n")
	return b.String()
}
