package diagram

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

var update = flag.Bool("update", false, "rewrite the golden files and the README's picture")

// RefusedRun is refused.lua's run as the tracer records it, with fixed ports: the lesson's
// story (connect sends nothing, g1 leaves, ICMP port unreachable comes back, recvfrom fails).
func RefusedRun() []sock.CallEvent {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	local := netip.MustParseAddrPort("127.0.0.1:48073")
	server := netip.MustParseAddrPort("127.0.0.1:43211")
	return []sock.CallEvent{
		{Time: at(0), FD: 3, Call: "socket", Result: 3},
		{Time: at(1), FD: 3, Call: "connect", Peer: server, Local: local},
		{Time: at(2), FD: 3, Call: "sendto", Result: 2, Peer: server, Local: local, Data: []byte("g1"), Len: 2},
		{Time: at(3), FD: 3, Call: "recvfrom", Errno: unix.ECONNREFUSED, Peer: server, Local: local},
	}
}

// pinnedRun is a pinned server (fd 3) with two clients: the first served, the second refused.
func pinnedRun() []sock.CallEvent {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	srv := netip.MustParseAddrPort("127.0.0.1:43211")
	c1 := netip.MustParseAddrPort("127.0.0.1:50001")
	c2 := netip.MustParseAddrPort("127.0.0.1:50002")
	return []sock.CallEvent{
		{Time: at(0), FD: 3, Call: "socket", Result: 3},
		{Time: at(1), FD: 3, Call: "bind", Peer: srv, Local: srv},
		{Time: at(2), FD: 4, Call: "socket", Result: 4},
		{Time: at(3), FD: 4, Call: "connect", Peer: srv, Local: c1},
		{Time: at(4), FD: 4, Call: "sendto", Result: 2, Peer: srv, Local: c1, Data: []byte("g1"), Len: 2},
		{Time: at(5), FD: 3, Call: "recvfrom", Result: 2, Peer: c1, Local: srv, Data: []byte("g1"), Len: 2},
		{Time: at(6), FD: 3, Call: "connect", Peer: c1, Local: srv},
		{Time: at(7), FD: 3, Call: "sendto", Result: 6, Peer: c1, Local: srv, Data: []byte("Hi, g1"), Len: 6},
		{Time: at(8), FD: 4, Call: "recvfrom", Result: 6, Peer: srv, Local: c1, Data: []byte("Hi, g1"), Len: 6},
		{Time: at(9), FD: 5, Call: "socket", Result: 5},
		{Time: at(10), FD: 5, Call: "connect", Peer: srv, Local: c2},
		{Time: at(11), FD: 5, Call: "sendto", Result: 2, Peer: srv, Local: c2, Data: []byte("g2"), Len: 2},
		{Time: at(12), FD: 5, Call: "recvfrom", Errno: unix.ECONNREFUSED, Peer: srv, Local: c2},
		{Time: at(3012), FD: 4, Call: "close"},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./diagram -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file (go test ./diagram -update rewrites it); got:\n%s", name, got)
	}
}

func TestTextGolden(t *testing.T) {
	golden(t, "refused.txt", []byte(Build(RefusedRun()).Text(80)))
	golden(t, "pinned.txt", []byte(Build(pinnedRun()).Text(80)))
	golden(t, "pinned-40.txt", []byte(Build(pinnedRun()).Text(40)))
}

// The layout tells the story: the refused datagram ends on a cross, the ICMP error goes back to
// the client, the second client's datagram is refused by the pinned server, and the gap of three
// seconds is a break.
func TestLayout(t *testing.T) {
	d := Build(pinnedRun())
	if len(d.Lifelines) != 3 {
		t.Fatalf("%d lifelines, want 3: %+v", len(d.Lifelines), d.Lifelines)
	}
	var datagrams, lost, icmp, gaps int
	for _, r := range d.Rows {
		switch r.Kind {
		case Datagram:
			datagrams++
			if r.Lost {
				lost++
				if r.From != 2 || r.To != 0 {
					t.Errorf("the refused datagram goes from %d to %d, want 2 to 0", r.From, r.To)
				}
			}
		case ICMP:
			icmp++
			if r.From != 0 || r.To != 2 {
				t.Errorf("the ICMP error goes from %d to %d, want 0 to 2", r.From, r.To)
			}
		case Gap:
			gaps++
		}
	}
	if datagrams != 3 || lost != 1 || icmp != 1 || gaps != 1 {
		t.Errorf("datagrams %d (lost %d), icmp %d, gaps %d; want 3 (1), 1, 1", datagrams, lost, icmp, gaps)
	}
	if !d.Lifelines[1].Closed || d.Lifelines[0].Closed {
		t.Errorf("closed: %+v", d.Lifelines)
	}
	if got := d.Lifelines[0].Label; got != "127.0.0.1:43211 (fd 3)" {
		t.Errorf("label %q", got)
	}
}

func TestSVGStructure(t *testing.T) {
	d := Build(pinnedRun())
	shape, err := ReadSVG(bytes.NewReader(d.SVG()))
	if err != nil {
		t.Fatal(err)
	}
	if shape.Classes["lifeline"] != 3 || shape.Classes["datagram"] != 3 || shape.Classes["icmp"] != 1 || shape.Classes["cross"] != 1 {
		t.Errorf("classes %v; want 3 lifelines, 3 datagrams, 1 icmp, 1 cross", shape.Classes)
	}
	if o := Overlapping(shape.Boxes); o != "" {
		t.Errorf("labels overlap: %s", o)
	}
	svg := string(d.SVG())
	for _, banned := range []string{"<script", "href=\"http", "@import", "url(http"} {
		if strings.Contains(svg, banned) {
			t.Errorf("the SVG is not self-contained: %s", banned)
		}
	}
}

// 20 sockets and 500 messages stay legible: the page grows, no labels overlap.
func TestLargeRun(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var events []sock.CallEvent
	addr := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(40000+i))
	}
	for i := 0; i < 20; i++ {
		events = append(events, sock.CallEvent{Time: t0, FD: 3 + i, Call: "socket", Result: 3 + i},
			sock.CallEvent{Time: t0, FD: 3 + i, Call: "bind", Peer: addr(i), Local: addr(i)})
	}
	for m := 0; m < 500; m++ {
		from, to := m%20, (m*7+3)%20
		events = append(events, sock.CallEvent{Time: t0.Add(time.Duration(m) * time.Millisecond), FD: 3 + from, Call: "sendto",
			Result: 5, Peer: addr(to), Local: addr(from), Data: []byte(fmt.Sprintf("m%04d a longer payload", m)), Len: 21})
	}
	d := Build(events)
	shape, err := ReadSVG(bytes.NewReader(d.SVG()))
	if err != nil {
		t.Fatal(err)
	}
	if shape.Classes["lifeline"] != 20 || shape.Classes["datagram"] != 500 {
		t.Errorf("classes %v", shape.Classes)
	}
	if o := Overlapping(shape.Boxes); o != "" {
		t.Errorf("labels overlap: %s", o)
	}
	if text := d.Text(100); strings.Count(text, "\n") < 1000 {
		t.Errorf("the text form has %d lines for 500 datagrams", strings.Count(text, "\n"))
	}
}

// The README's picture is the SVG of refused.lua's run as this package draws it now.
func TestReadmePicture(t *testing.T) {
	got := Build(RefusedRun()).SVG()
	path := filepath.Join("..", "docs", "refused.svg")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("docs/refused.svg is not the current picture (go test ./diagram -update rewrites it): %v", err)
	}
}

// A broadcast is one arrow to the group's address, with a head at each socket that received it
// (recvfrom names the sender; recv does not, and the port tells); a socket that got nothing has
// no head.
func TestBroadcastFanOut(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	a := netip.MustParseAddrPort("10.0.0.1:5000")
	any := netip.MustParseAddrPort("0.0.0.0:43300")
	bc := netip.MustParseAddrPort("10.0.0.255:43300")
	d := Build([]sock.CallEvent{
		{Time: t0, FD: 9, Host: "b", Call: "socket", Result: 9}, {Time: t0, FD: 9, Host: "b", Call: "bind", Peer: any, Local: any},
		{Time: t0, FD: 9, Host: "c", Call: "socket", Result: 9}, {Time: t0, FD: 9, Host: "c", Call: "bind", Peer: any, Local: any},
		{Time: t0, FD: 9, Host: "d", Call: "socket", Result: 9}, {Time: t0, FD: 9, Host: "d", Call: "bind", Peer: any, Local: any},
		{Time: t0, FD: 10, Host: "a", Call: "socket", Result: 10}, {Time: t0, FD: 10, Host: "a", Call: "bind", Peer: a, Local: a},
		{Time: t0, FD: 10, Host: "a", Call: "sendto", Peer: bc, Local: a, Data: []byte("all"), Len: 3, Result: 3},
		{Time: t0, FD: 9, Host: "b", Call: "recvfrom", Peer: a, Local: any, Data: []byte("all"), Len: 3, Result: 3},
		{Time: t0, FD: 9, Host: "c", Call: "recvfrom", Local: any, Data: []byte("all"), Len: 3, Result: 3},
		{Time: t0, FD: 9, Host: "d", Call: "recvfrom", Errno: unix.EAGAIN, Local: any},
	})
	for _, r := range d.Rows {
		if r.Kind == Datagram {
			if got := d.Lifelines[r.To].Label; got != "10.0.0.255:43300 (broadcast)" || len(r.Heads) != 2 || r.Heads[0] != 0 || r.Heads[1] != 1 {
				t.Errorf("the broadcast goes to %q with heads %v, want the broadcast address and heads [0 1]", got, r.Heads)
			}
			return
		}
	}
	t.Error("no datagram row")
}

// With the wire's packets, the arrows are the packets; a send recorded after the packet it made
// (the capture read it first) is put back before it.
func TestWireArrows(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	local := netip.MustParseAddrPort("127.0.0.1:48073")
	server := netip.MustParseAddrPort("127.0.0.1:43211")
	d := Build([]sock.CallEvent{
		{Time: t0, FD: 3, Call: "socket", Result: 3},
		{Time: t0, FD: 3, Call: "connect", Peer: server, Local: local},
		{Time: t0, Call: "packet", Local: local, Peer: server, Data: []byte("g1"), Len: 2},
		{Time: t0, FD: 3, Call: "sendto", Result: 2, Peer: server, Local: local, Data: []byte("g1"), Len: 2},
		{Time: t0, Call: "packet", Local: netip.MustParseAddrPort("127.0.0.1:0"), Peer: server, About: local, ICMP: "ICMP port unreachable (3/3)"},
		{Time: t0, FD: 3, Call: "recvfrom", Errno: unix.ECONNREFUSED, Peer: server, Local: local},
	})
	var kinds []string
	for _, r := range d.Rows {
		kinds = append(kinds, fmt.Sprintf("%d:%s", r.Kind, r.Text))
	}
	want := []string{"0:socket → 3", "0:connect 127.0.0.1:43211 → 0", `0:sendto "g1" (2 bytes)`, `1:"g1" (2 bytes)`,
		"2:ICMP port unreachable (3/3)", "0:recvfrom → ECONNREFUSED (111)"}
	if !d.FromWire || strings.Join(kinds, "|") != strings.Join(want, "|") {
		t.Errorf("rows %q, want %q", kinds, want)
	}
	if r := d.Rows[4]; r.From != 1 || r.To != 0 {
		t.Errorf("the ICMP error goes from %d to %d, want from the port's lifeline 1 to the client 0", r.From, r.To)
	}
}
