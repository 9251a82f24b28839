package luabind

import (
	"fmt"
	"io"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Definitions for the Lua Language Server (udplab --lua-defs FILE): every global function,
// socket, host and network method, and constant, written from the help that help() shows, so
// that an editor completes and checks a script with what udplab has.

// luaParam is one parameter of a call, as the language server reads it.
type luaParam struct {
	name, typ string
	optional  bool
}

// paramTypes are the types of the parameters the synopses name.
var paramTypes = map[string]string{
	"s": "socket", "family": "integer", "type": "integer", "protocol": "integer",
	"host": "string", "port": "integer", "addr": "address|string", "data": "string",
	"flags": "integer", "maxlen": "integer", "level": "integer", "option": "integer",
	"value": "any", "seconds": "number", "errno": "integer", "status": "integer",
	"errnum": "integer", "fmt": "string", "sig": "integer", "fn": "fun(sig: integer)|nil",
	"on": "boolean", "file": "string", "what": "any", "script": "string", "job": "job",
	"mode": `"drop"|"reject"|nil`, "lan": "string|nil", "arg": "string",
	"name": "string", "title": "string", "argv": "string[]", "opts": "{stdin: string?, timeout: number?, env: table<string, string|false>?, cwd: string?}",
}

// literalParams are the parameters a synopsis shows by example, by the name and type they get.
var literalParams = map[string]luaParam{
	`"host:port"`:        {name: "hostport", typ: "string"},
	`{family=AF_UNSPEC}`: {name: "addr", typ: "address"},
	`{s1, s2, ...}`:      {name: "sockets", typ: "socket[]"},
	`{"a", "b", ...}`:    {name: "plan", typ: "table"},
	`{lans = {left = "10.1.0.0/24", ...}, hosts = {a = "left", r = {"left", "right"}, ...}}`: {name: "plan", typ: "table"},
	`{loss=0.2, delay=0.05, rate="1mbit"}`:                                                   {name: "impairment", typ: "{loss: number?, delay: number?, rate: string|number|nil}"},
}

// luaReturns are the types of what each call returns on success; "" for nothing. A call whose
// help says it returns "nil, message, errno" on failure gets those too.
var luaReturns = map[string]string{
	"socket": "socket", "bind": "integer", "connect": "integer", "send": "integer", "sendto": "integer",
	"recv": "string, integer?", "recvfrom": "string, address, integer?", "close": "integer", "getsockname": "address",
	"getpeername": "address", "setsockopt": "integer", "getsockopt": "any", "settimeout": "integer",
	"fileno": "integer", "poll": "socket[]", "sockets": "socket[]", "strerror": "string",
	"errname": "string?", "fatal": "", "signal": "function?", "help": "", "trace": "boolean?",
	"wire": "boolean", "recverr": "table", "network": "network", "diagram": "true?",
	// the lab's methods
	"down": "integer", "up": "integer", "firewall": "integer", "impair": "integer", "nat": "integer",
	"exec": "integer, string, string", "shipped": "string", "pcap": "integer", "spawn": "job",
	"jobs": "", "stop": "integer", "label": "socket", "section": "", "step": "boolean?", "live": "string?",
}

// WriteLuaDefs writes the definitions of udplab's globals for the Lua Language Server.
func (rt *Runtime) WriteLuaDefs(w io.Writer) error {
	var b strings.Builder
	b.WriteString(`---@meta
-- udplab's globals for the Lua Language Server, written by udplab --lua-defs from the help that
-- help() shows. Point the editor at this file (Lua.workspace.library); do not edit it.

---An address: {family=AF_INET, addr="127.0.0.1", port=43211}; tostring gives 127.0.0.1:43211.
---@class address
---@field family integer
---@field addr string
---@field port integer

---A socket: socket(AF_INET, SOCK_DGRAM). s:send(data) is send(s, data).
---@class socket
local Socket = {}

---A lab host: net.a. Its socket() opens a socket inside it.
---@class host
---@field name string
---@field addr string
---@field addr6 string
---@field addrs table<string, string>
---@field addrs6 table<string, string>
local Host = {}

---A lab: network{"a", "b"}. net.a is host a.
---@class network
---@field [string] host
local Network = {}

---A script bg() started.
---@class job

`)
	for _, bd := range rt.bindings {
		text, err := luaFunction(bd.name, "", bd.help, bd.returnType())
		if err != nil {
			return err
		}
		b.WriteString(text)
		if bd.method {
			text, _ := luaFunction(bd.name, "Socket:", bd.help, bd.returnType())
			b.WriteString(text)
		}
	}
	for _, e := range hostMethodHelp {
		text, err := luaFunction(methodName(e.synopsis), "Host:", e, luaReturns[methodName(e.synopsis)])
		if err != nil {
			return err
		}
		b.WriteString(text)
	}
	for _, e := range networkMethodHelp {
		text, err := luaFunction(methodName(e.synopsis), "Network:", e, "integer")
		if err != nil {
			return err
		}
		b.WriteString(text)
	}
	consts := rt.constantsByName()
	names := make([]string, 0, len(consts))
	for name := range consts {
		names = append(names, name)
	}
	sort.Strings(names)
	b.WriteString("\n-- constants\n")
	for _, name := range names {
		switch v := consts[name].(type) {
		case lua.LString:
			fmt.Fprintf(&b, "%s = %q\n", name, string(v))
		default:
			fmt.Fprintf(&b, "%s = %s\n", name, v.String())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// returnType is the type of what b returns on success.
func (b *binding) returnType() string {
	if b.returns != "" {
		return b.returns
	}
	return luaReturns[b.name]
}

// luaFunction writes one function (or, with self "Socket:", the method whose first parameter is
// the socket; "Host:" and "Network:", a method whose synopsis omits the object) with its doc
// comment, parameters, overloads and returns.
func luaFunction(name, self string, e helpEntry, returns string) (string, error) {
	alternatives := strings.Split(e.synopsis, " | ")
	var forms [][]luaParam
	for _, alt := range alternatives {
		params, err := synopsisParams(alt)
		if err != nil {
			return "", fmt.Errorf("%s: %v", name, err)
		}
		if self == "Socket:" {
			if len(params) == 0 || params[0].typ != "socket" {
				return "", fmt.Errorf("%s: a method whose first parameter is not a socket", name)
			}
			params = params[1:]
		}
		if !containsForm(forms, params) {
			forms = append(forms, params)
		}
	}
	rets, labels := luaResults(returns, strings.Contains(e.returns, "nil, message, errno"))
	var b strings.Builder
	b.WriteString("\n---" + e.summary + "\n")
	b.WriteString("---\n---returns " + strings.ReplaceAll(e.returns, "\n", "\n---") + "\n")
	if e.errors != "" {
		b.WriteString("---\n---errors:\n")
		for _, line := range strings.Split(e.errors, "\n") {
			b.WriteString("--- * " + line + "\n")
		}
	}
	for _, p := range forms[0] {
		opt := ""
		if p.optional {
			opt = "?"
		}
		if p.name == "..." {
			fmt.Fprintf(&b, "---@param ... %s\n", p.typ)
			continue
		}
		fmt.Fprintf(&b, "---@param %s%s %s\n", p.name, opt, p.typ)
	}
	for _, form := range forms[1:] {
		var ps []string
		for _, p := range form {
			opt := ""
			if p.optional {
				opt = "?"
			}
			ps = append(ps, p.name+opt+": "+p.typ)
		}
		sig := "fun(" + strings.Join(ps, ", ") + ")"
		if len(rets) > 0 {
			sig += ": " + strings.Join(rets, ", ")
		}
		b.WriteString("---@overload " + sig + "\n")
	}
	for i, r := range rets {
		b.WriteString("---@return " + r + labels[i] + "\n")
	}
	var names []string
	for _, p := range forms[0] {
		names = append(names, p.name)
	}
	fmt.Fprintf(&b, "function %s%s(%s) end\n", self, name, strings.Join(names, ", "))
	return b.String(), nil
}

// luaResults are the types of what a call returns, position by position: what it returns on
// success ("string, address") and, when it can fail, nil, message, errno; each with its label
// when the positions mean one thing.
func luaResults(success string, failure bool) (types, labels []string) {
	var ok, failed []string
	if success != "" {
		ok = strings.Split(success, ", ")
	}
	if failure {
		failed = []string{"nil", "string", "integer"}
	}
	for i := 0; i < max(len(ok), len(failed)); i++ {
		var parts []string
		lists := [][]string{ok}
		if failure {
			lists = append(lists, failed)
		}
		for _, list := range lists {
			if i >= len(list) {
				parts = append(parts, "nil")
			} else {
				parts = append(parts, list[i])
			}
		}
		types = append(types, union(parts...))
		label := ""
		if failure && len(ok) <= 1 && i > 0 {
			label = []string{"", " message", " errno"}[i]
		}
		labels = append(labels, label)
	}
	return types, labels
}

// union is the type that is any of types ("string?" is string or nil): "string?",
// "address|string|nil".
func union(types ...string) string {
	var list []string
	seen := map[string]bool{}
	for _, t := range types {
		for _, part := range strings.Split(t, "|") {
			if strings.HasSuffix(part, "?") {
				part = strings.TrimSuffix(part, "?")
				seen["nil"] = true
			}
			if !seen[part] {
				seen[part] = true
				if part != "nil" {
					list = append(list, part)
				}
			}
		}
	}
	switch {
	case !seen["nil"]:
		return strings.Join(list, "|")
	case len(list) == 1 && !strings.ContainsAny(list[0], "()"):
		return list[0] + "?"
	}
	return strings.Join(append(list, "nil"), "|")
}

func containsForm(forms [][]luaParam, params []luaParam) bool {
	for _, f := range forms {
		if fmt.Sprint(f) == fmt.Sprint(params) {
			return true
		}
	}
	return false
}

// synopsisParams reads the parameters of one form of a synopsis: "sendto(s, data, host,
// port[, flags])", "net.a:impair{loss=...}", "network{...}".
func synopsisParams(synopsis string) ([]luaParam, error) {
	open := strings.IndexAny(synopsis, "({")
	if open < 0 {
		return nil, fmt.Errorf("no parameters in %q", synopsis)
	}
	if synopsis[open] == '{' { // one table, Lua's f{...}
		p, ok := literalParams[synopsis[open:]]
		if !ok {
			return nil, fmt.Errorf("no type for the parameter %s", synopsis[open:])
		}
		return []luaParam{p}, nil
	}
	body := strings.TrimSuffix(synopsis[open+1:], ")")
	var params []luaParam
	optional, depth, start := false, 0, 0
	var quote byte
	flush := func(end int) error {
		item := strings.TrimSpace(strings.Trim(strings.TrimSpace(body[start:end]), "[],"))
		start = end + 1
		if item == "" {
			return nil
		}
		p, err := luaParamOf(item)
		p.optional = p.optional || optional
		params = append(params, p)
		return err
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '{':
			depth++
		case c == '}':
			depth--
		case depth == 0 && c == '[':
			if err := flush(i); err != nil {
				return nil, err
			}
			optional = true
		case depth == 0 && c == ',':
			if err := flush(i); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(len(body)); err != nil {
		return nil, err
	}
	return params, nil
}

// luaParamOf is the parameter a synopsis names, or shows by example.
func luaParamOf(item string) (luaParam, error) {
	switch {
	case item == "...":
		return luaParam{name: "...", typ: "any"}, nil
	case strings.HasSuffix(item, "..."):
		return luaParam{name: "...", typ: paramTypes[strings.TrimSuffix(item, "...")]}, nil
	}
	if p, ok := literalParams[item]; ok {
		return p, nil
	}
	if typ, ok := paramTypes[item]; ok {
		return luaParam{name: item, typ: typ}, nil
	}
	return luaParam{}, fmt.Errorf("no type for the parameter %q", item)
}
