package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/udplab/udplab/diagram"
)

// --diagram draws real runs: refused.lua (the refusal), pinned.lua (the pinned server and its two
// clients) and a lab script; one lifeline per socket, an arrow per datagram, the ICMP errors, no
// labels overlapping; "-" prints the text form.
func TestDiagramOfRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name      string
		args      []string
		stdin     string
		lifelines int // at least
		icmp      int // at least
	}{
		{"refused", []string{"scripts/refused.lua", "127.0.0.1", "9"}, "g1\n", 2, 1},
		{"pinned", []string{"scripts/pinned.lua"}, "", 3, 1},
		{"unreachable", []string{"scripts/lan/unreachable.lua"}, "", 3, 2},
	} {
		svg := filepath.Join(dir, tc.name+".svg")
		r := runUdplab(t, nil, tc.stdin, append([]string{"--diagram", svg}, tc.args...)...)
		b, err := os.ReadFile(svg)
		if err != nil {
			t.Fatalf("%s: no diagram (%v); run %+v", tc.name, err, r)
		}
		shape, err := diagram.ReadSVG(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if shape.Classes["lifeline"] < tc.lifelines || shape.Classes["datagram"] < 1 || shape.Classes["icmp"] < tc.icmp {
			t.Errorf("%s: %v; want at least %d lifelines, a datagram, %d ICMP arrows", tc.name, shape.Classes, tc.lifelines, tc.icmp)
		}
		if o := diagram.Overlapping(shape.Boxes); o != "" {
			t.Errorf("%s: labels overlap: %s", tc.name, o)
		}
	}
	r := udplab(t, "g1\n", "--diagram", "-", "scripts/refused.lua", "127.0.0.1", "9")
	for _, want := range []string{"(no socket)", "sendto \"g1\" (2 bytes)", "ICMP port unreachable (3/3)", "✖ recvfrom → ECONNREFUSED (111)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the text diagram lacks %q:\n%s", want, r.stdout)
		}
	}
}

// The console keeps a diagram of its session: diagram() prints it. --diagram to a file that
// cannot be written fails at once, before the script runs.
func TestDiagramAtTheConsole(t *testing.T) {
	t.Parallel()
	r := udplab(t, "s = socket(AF_INET, SOCK_DGRAM)\nconnect(s, \"127.0.0.1:9\")\nsend(s, \"g1\")\nrecv(s, 10)\ndiagram()\n")
	if !strings.Contains(r.stdout, "✖ recvfrom → ECONNREFUSED (111)") || !strings.Contains(r.stdout, "ICMP port unreachable") || r.code != 0 {
		t.Errorf("diagram() at the console: %+v", r)
	}
	r = udplab(t, "", "--diagram", "/nonexistent/x.svg", "-e", `print("ran")`)
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "cannot write the diagram") {
		t.Errorf("--diagram to a folder that does not exist: %+v", r)
	}
}

// With the wire view, the arrows are the packets captured: the datagram (labelled with its data
// alone, the send being a call label of its own) and the ICMP error the kernel really sent.
func TestDiagramFromTheWire(t *testing.T) {
	t.Parallel()
	r := udplab(t, "g1\n", "--wire", "--diagram", "-", "scripts/refused.lua", "127.0.0.1", "9")
	if strings.Contains(r.stderr, "wire view") && strings.Contains(r.stderr, "not permitted") {
		t.Skip("no CAP_NET_RAW here: " + r.stderr)
	}
	for _, want := range []string{"● sendto \"g1\" (2 bytes)\n", "│    \"g1\" (2 bytes)      │\n", "ICMP port unreachable (3/3)", "✖ recvfrom → ECONNREFUSED (111)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the wire's diagram lacks %q:\n%s\nstderr: %s", want, r.stdout, r.stderr)
		}
	}
}
