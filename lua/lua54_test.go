package lua

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	glua "github.com/yuin/gopher-lua"
)

// The table test: every case of lua54Cases runs in lua5.4 and here, and prints the same, but
// for the cases of lua54Differences, which print what gopher-lua's design forces, each with its
// reason. Without lua5.4 only this package's side is checked (the differences' outputs), and
// the test says so.

// difference is a case whose output is allowed to differ from lua5.4's: ours is what this
// package prints, why is the reason.
type difference struct{ code, ours, why string }

// caseDriver runs each case as lua5.4 and this package both can: in an environment of its own
// (globals it sets do not leak into the next case), protected, its error printed.
const caseDriver = `
local cases = ...
for i, code in ipairs(cases) do
  io.write("\n@@ case ", i, "\n")
  local env = setmetatable({}, {__index = _G})
  local fn, err = load(code, "=case", "t", env)
  if not fn then
    print("load: " .. err)
  else
    local ok, e = pcall(fn)
    if not ok then print("error: " .. tostring(e)) end
  end
end
io.write("\n@@ end\n")
`

// addresses are the pointers in "table: 0x55...", which differ from run to run.
var addresses = regexp.MustCompile(`0x[0-9a-f]{6,}`)

// splitCases splits a driver's output into each case's output.
func splitCases(out string, n int) ([]string, error) {
	parts := strings.Split(out, "\n@@ case ")
	if len(parts) != n+1 {
		return nil, fmt.Errorf("%d cases ran, want %d; output:\n%s", len(parts)-1, n, out)
	}
	var outputs []string
	for i, p := range parts[1:] {
		head, body, _ := strings.Cut(p, "\n")
		if head != fmt.Sprint(i+1) {
			return nil, fmt.Errorf("case %d came as %q", i+1, head)
		}
		body, _, _ = strings.Cut(body, "\n@@ end\n")
		outputs = append(outputs, addresses.ReplaceAllString(body, "0xADDR"))
	}
	return outputs, nil
}

// driverScript is caseDriver with the cases as a literal table, for lua5.4.
func driverScript(codes []string) string {
	var b strings.Builder
	b.WriteString("local cases = {\n")
	for _, c := range codes {
		b.WriteString("[=====[" + c + "]=====],\n")
	}
	b.WriteString("}\n")
	b.WriteString(strings.Replace(caseDriver, "local cases = ...", "", 1))
	return b.String()
}

// runOurs runs the cases here, as a program built on this package would.
func runOurs(t *testing.T, codes []string) []string {
	t.Helper()
	var out bytes.Buffer
	L, _ := newState(t, &out)
	fn, err := Load(L, strings.NewReader(caseDriver), "=driver")
	if err != nil {
		t.Fatal(err)
	}
	list := L.NewTable()
	for _, c := range codes {
		list.Append(glua.LString(c))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	L.SetContext(ctx)
	L.Push(fn)
	L.Push(list)
	if err := L.PCall(1, 0, nil); err != nil {
		t.Fatalf("the driver failed: %v\noutput:\n%s", err, out.String())
	}
	outputs, err := splitCases(out.String(), len(codes))
	if err != nil {
		t.Fatal(err)
	}
	return outputs
}

// runLua54 runs the cases in lua5.4, or returns nil when it is not installed.
func runLua54(t *testing.T, codes []string) []string {
	t.Helper()
	path, err := exec.LookPath("lua5.4")
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-")
	cmd.Stdin = strings.NewReader(driverScript(codes))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lua5.4: %v\n%s", err, stderr.String())
	}
	outputs, err := splitCases(string(out), len(codes))
	if err != nil {
		t.Fatal(err)
	}
	return outputs
}

func TestAsLua54Shows(t *testing.T) {
	t.Parallel()
	codes := append([]string(nil), lua54Cases...)
	for _, d := range lua54Differences {
		if d.why == "" {
			t.Errorf("%s: an allowed difference without its reason", d.code)
		}
		codes = append(codes, d.code)
	}
	if len(codes) < 300 {
		t.Errorf("only %d cases", len(codes))
	}
	t.Logf("%d cases, %d of them allowed to differ", len(codes), len(lua54Differences))
	ours := runOurs(t, codes)
	theirs := runLua54(t, codes)
	if theirs == nil {
		t.Log("lua5.4 is not installed: only the outputs of the allowed differences are checked")
	}
	for i, code := range codes {
		if i < len(lua54Cases) {
			if theirs != nil && ours[i] != theirs[i] {
				t.Errorf("%s\n  ours:   %q\n  lua5.4: %q", code, ours[i], theirs[i])
			}
			continue
		}
		d := lua54Differences[i-len(lua54Cases)]
		if ours[i] != d.ours {
			t.Errorf("%s\n  ours:   %q\n  want:   %q (%s)", code, ours[i], d.ours, d.why)
		}
		if theirs != nil && theirs[i] == d.ours {
			t.Errorf("%s: lua5.4 prints the same %q: no difference to allow", code, theirs[i])
		}
	}
}
