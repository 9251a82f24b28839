package lua

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	glua "github.com/yuin/gopher-lua"
)

// ioCases are what PUC Lua 5.4's io library answers (each checked against lua5.4), and so
// udplab's: lines end at "\n" only, long lines are whole, failures are
// luaL_fileresult's triple. In each, the file named by the global path holds "g1\r\n" +
// 5000 "x" + "\n" + "12 0x1F 3.5e2 abc\n", and io.stdin reads "typed\r\nmore\n".
var ioCases = []struct{ code, want string }{
	{`for l in io.lines(path) do print(#l) end`, "3\n5000\n17\n"},
	{`local f = io.open(path); print(f:read("L") == "g1\r\n", #f:read("l"), f:read("n", "n", "n", "n"))`, "true\t5000\t12\t31\t350\tnil\n"}, // 350.0 in Lua 5.4, whose numbers have subtypes
	{`local f = io.open(path); f:read("l"); f:read("l"); print(f:read("n", "l"))`, "12\t 0x1F 3.5e2 abc\n"},
	{`local f = io.open(path); print(#f:read("a"), f:read("a"), f:read("l"), f:read(0))`, "5023\t\tnil\tnil\n"},
	{`local f = io.open(path); print(f:read(0), f:read(2), f:seek("cur"), f:seek("end"), f:read(1))`, "\tg1\t2\t5023\tnil\n"},
	{`print(io.read(), io.read("L"), io.read())`, "typed\r\tmore\n\tnil\n"},
	{`for a, b in io.lines(path, 1, 2) do print(a, b) break end`, "g\t1\r\n"},
	{`print(io.open(path .. ".none"))`, "nil\t" + "PATH.none: No such file or directory\t2\n"},
	{`print(pcall(io.lines, path .. ".none"))`, "false\tcannot open file 'PATH.none' (No such file or directory)\n"},
	{`print(pcall(io.open, path, "rw"))`, "false\tbad argument #2 to 'io.open' (invalid mode)\n"},
	{`print(pcall(io.read, "x"))`, "false\tbad argument #1 to 'io.read' (invalid format)\n"},
	{`print(pcall(io.read, {}))`, "false\tbad argument #1 to 'io.read' (string expected, got table)\n"},
	{`local f = io.open(path); f:close(); print(io.type(f), tostring(f), pcall(f.read, f))`, "closed file\tfile (closed)\tfalse\tattempt to use a closed file\n"},
	{`print(io.type(io.stdout), io.type(42), io.stdout:close())`, "file\tnil\tnil\tcannot close standard file\n"},
	{`local f = io.open(path); print(f:write("x"))`, "nil\tBad file descriptor\t9\n"},
	{`io.write("a", 1, 2.5, "\n")`, "a12.5\n"},
	{`print(pcall(io.write, {}))`, "false\tbad argument #1 to 'io.write' (string expected, got table)\n"},
	{`local f = io.popen("exit 3"); print(f:close())`, "nil\texit\t3\n"},
	{`local f = io.popen("echo hi"); print(f:read("a"), f:close())`, "hi\n\ttrue\texit\t0\n"},
	{`local it = io.lines(path); it(); it(); it(); print(it(), pcall(it))`, "nil\tfalse\tfile is already closed\n"},
}

func TestIOIsPUCLua(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lines")
	content := "g1\r\n" + strings.Repeat("x", 5000) + "\n12 0x1F 3.5e2 abc\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range ioCases {
		t.Run(tc.code, func(t *testing.T) {
			var out bytes.Buffer
			L := glua.NewState()
			defer L.Close()
			rt := Open(L, Options{Stdout: &out, Stderr: &out, Stdin: strings.NewReader("typed\r\nmore\n")})
			defer rt.Close()
			L.SetGlobal("path", glua.LString(path))
			if err := runChunk(L, tc.code); err != nil {
				t.Fatal(err)
			}
			got := strings.ReplaceAll(out.String(), "<string>:1: ", "")
			if want := strings.ReplaceAll(tc.want, "PATH", path); got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// A file the script writes through a buffer is flushed when the script leaves by os.exit.
func TestOpenedFilesFlushedAtExit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	L := glua.NewState()
	defer L.Close()
	exited := -1
	rt := Open(L, Options{Stdout: &bytes.Buffer{}, Exit: func(code int) { exited = code; L.RaiseError("exit") }})
	defer rt.Close()
	L.SetGlobal("path", glua.LString(path))
	runChunk(L, `local f = io.open(path, "w"); f:write("kept"); os.exit(4)`)
	if b, err := os.ReadFile(path); exited != 4 || err != nil || string(b) != "kept" {
		t.Errorf("exit %d, file %q %v; want exit 4 and %q", exited, b, err, "kept")
	}
}
