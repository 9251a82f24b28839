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
