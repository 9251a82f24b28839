package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/udplab/udplab/scripts"
)

// udplab --lua-defs writes a file that Lua 5.4 compiles and runs, defining every global help()
// lists, every socket method help(s) lists, the methods of hosts and networks, and every
// constant with udplab's value.
func TestLuaDefs(t *testing.T) {
	t.Parallel()
	lua, err1 := exec.LookPath("lua5.4")
	luac, err2 := exec.LookPath("luac5.4")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no lua5.4 or luac5.4 under CI: .ci/run installs Debian's lua5.4")
		}
		t.Skip("no lua5.4 or luac5.4 (Debian's lua5.4 package; .ci/run installs it)")
	}
	defs := filepath.Join(t.TempDir(), "udplab.lua")
	udplab(t, "", "--lua-defs", defs).check(t, "", "", 0)
	if out, err := exec.Command(luac, "-p", defs).CombinedOutput(); err != nil {
		t.Fatalf("luac5.4 -p: %v\n%s", err, out)
	}

	// the globals help() lists, from a console session (with run, bg, jobs, stop); not the
	// fields of the experiment module, which has a line of its own
	listing := udplab(t, "help()\n").stdout
	modules := map[string]bool{}
	libs, _ := fs.Glob(scripts.FS, "lib/*.lua")
	for _, lib := range libs {
		modules[strings.TrimSuffix(path.Base(lib), ".lua")] = true
	}
	var globals []string
	label := ""
	for _, line := range strings.Split(listing, "\n") {
		if !strings.HasPrefix(line, "  ") || len(line) < 14 {
			continue
		}
		if l := strings.TrimSpace(line[:14]); l != "" {
			label = l
		}
		names, _, _ := strings.Cut(line[14:], "  (")
		if modules[label] || strings.HasPrefix(names, "(") { // a module's fields; a note
			continue
		}
		globals = append(globals, strings.Fields(names)...)
	}
	globals = append(globals, "help")
	if len(globals) < 30 {
		t.Fatalf("help() listed %d globals:\n%s", len(globals), listing)
	}
	methods := regexp.MustCompile(`(?m)^  s:(\w+)`).FindAllStringSubmatch(udplab(t, "help(socket(AF_INET, SOCK_DGRAM))\n").stdout, -1)
	if len(methods) < 10 {
		t.Fatalf("help(s) listed %d methods", len(methods))
	}
	constants := udplab(t, `for k, v in pairs(require("sock")) do if type(v) ~= "function" then print(k, v) end end`+"\n").stdout

	var check strings.Builder
	check.WriteString("dofile(arg[1])\nlocal missing = {}\n")
	for _, g := range globals {
		check.WriteString("if type(" + g + ") ~= 'function' then missing[#missing + 1] = '" + g + "' end\n")
	}
	for _, m := range methods {
		check.WriteString("if type(Socket_methods." + m[1] + ") ~= 'function' then missing[#missing + 1] = 's:" + m[1] + "' end\n")
	}
	for _, m := range []string{"socket", "down", "up", "firewall", "impair", "nat"} {
		check.WriteString("if type(Host_methods." + m + ") ~= 'function' then missing[#missing + 1] = 'net.a:" + m + "' end\n")
	}
	for _, line := range strings.Split(strings.TrimSpace(constants), "\n") {
		name, value, _ := strings.Cut(line, "\t")
		check.WriteString("if tostring(" + name + ") ~= '" + value + "' then missing[#missing + 1] = '" + name + " = " + value + "' end\n")
	}
	check.WriteString("print(#missing == 0 and 'all there' or table.concat(missing, ' '))\n")
	script := filepath.Join(t.TempDir(), "check.lua")
	if err := os.WriteFile(script, []byte(check.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The classes' tables are local to the file: the check's dofile appends a line that hands
	// them out.
	out, err := exec.Command(lua, "-e", `
		function dofile(path)
		  local src = assert(io.open(path)):read("a")
		  return assert(load(src .. "\nSocket_methods, Host_methods = Socket, Host\n", "@" .. path))()
		end`, script, defs).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "all there" {
		t.Errorf("lua5.4 %s: %v\nmissing: %s", defs, err, out)
	}
}
