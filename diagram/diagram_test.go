package diagram

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

var update = flag.Bool("update", false, "rewrite the golden files and the README's picture")

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// RefusedRun is refused.lua's run as the tracer records it, with fixed ports: the lesson's
// story (connect sends nothing, g1 leaves, ICMP port unreachable comes back, recvfrom fails).
func RefusedRun() []sock.CallEvent {
	local, server := ap("127.0.0.1:48073"), ap("127.0.0.1:43211")
	return []sock.CallEvent{
		{Time: at(0), FD: 3, Call: "socket", Result: 3},
		{Time: at(1), FD: 3, Call: "connect", Peer: server, Local: local},
		{Time: at(2), FD: 3, Call: "sendto", Result: 2, Peer: server, Local: local, Data: []byte("g1"), Len: 2},
		{Time: at(3), FD: 3, Call: "recvfrom", Errno: unix.ECONNREFUSED, Peer: server, Local: local},
	}
}

// pinnedRun is a pinned server (fd 3) with two clients: the first served, the second refused.
func pinnedRun() []sock.CallEvent {
	srv, c1, c2 := ap("127.0.0.1:43211"), ap("127.0.0.1:50001"), ap("127.0.0.1:50002")
	return []sock.CallEvent{
		{Time: at(0), FD: 3, Call: "socket", Result: 3},
		{Time: at(0), FD: 3, Call: "label", Data: []byte("server")},
		{Time: at(1), FD: 3, Call: "bind", Peer: srv, Local: srv},
		{Time: at(2), FD: 4, Call: "socket", Result: 4},
		{Time: at(3), FD: 4, Call: "connect", Peer: srv, Local: c1},
		{Time: at(4), FD: 4, Call: "send", Result: 2, Peer: srv, Local: c1, Data: []byte("g1"), Len: 2},
		{Time: at(5), FD: 3, Call: "recvfrom", Result: 2, Peer: c1, Local: srv, Data: []byte("g1"), Len: 2},
		{Time: at(6), FD: 3, Call: "connect", Peer: c1, Local: srv},
		{Time: at(7), FD: 3, Call: "send", Result: 6, Peer: c1, Local: srv, Data: []byte("Hi, g1"), Len: 6},
		{Time: at(8), FD: 4, Call: "recv", Result: 6, Peer: srv, Local: c1, Data: []byte("Hi, g1"), Len: 6},
		{Time: at(9), FD: 5, Call: "socket", Result: 5},
		{Time: at(10), FD: 5, Call: "connect", Peer: srv, Local: c2},
		{Time: at(11), FD: 5, Call: "send", Result: 2, Peer: srv, Local: c2, Data: []byte("g2"), Len: 2},
		{Time: at(12), FD: 5, Call: "recv", Errno: unix.ECONNREFUSED, Peer: srv, Local: c2},
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
	golden(t, "refused.txt", []byte(Build(RefusedRun(), Env{}).Text(80)))
	golden(t, "pinned.txt", []byte(Build(pinnedRun(), Env{}).Text(80)))
	golden(t, "pinned-40.txt", []byte(Build(pinnedRun(), Env{}).Text(40)))
	golden(t, "pinned.json", Build(pinnedRun(), Env{}).JSON())
}

// datagrams returns the model's datagram events, and its ICMP errors.
func datagrams(m *Model) (dgrams, icmps []Event) {
	for _, e := range m.Events {
		switch e.Kind {
		case EventDatagram:
			dgrams = append(dgrams, e)
		case EventICMP:
			icmps = append(icmps, e)
		}
	}
	return
}

// label is the label of lifeline id.
func label(m *Model, id string) string {
	if l := m.lifeline(id); l != nil {
		return l.Label
	}
	return "(none: " + id + ")"
}

// The refused datagram's fate: refused, at the address nobody held; the ICMP error comes from
// this machine's kernel, as its type and code, known from the errno (recvfrom's ECONNREFUSED is
// only ever a port unreachable).
func TestRefused(t *testing.T) {
	m := Build(RefusedRun(), Env{})
	d, icmp := datagrams(m)
	if len(d) != 1 || d[0].Fate != FateRefused || label(m, d[0].To[0]) != "127.0.0.1:43211 (no socket)" || d[0].Call != "sendto" {
		t.Fatalf("datagram %+v", d)
	}
	if len(icmp) != 1 || label(m, icmp[0].From) != "this machine" || *icmp[0].Type != 3 || *icmp[0].Code != 3 || !icmp[0].Inferred ||
		icmp[0].ICMP != "ICMP port unreachable (type 3, code 3)" {
		t.Fatalf("icmp %+v", icmp)
	}
}

// The pinned server: g1 delivered to it, Hi, g1 to client 1, g2 refused by the server's socket
// (connected to client 1), the names the script gave, send and recv as the script called them,
// and the three-second pause a break.
func TestPinned(t *testing.T) {
	m := Build(pinnedRun(), Env{})
	d, icmp := datagrams(m)
	var got []string
	for _, e := range d {
		got = append(got, fmt.Sprintf("%s %s %s→%s %s", e.Call, e.Data, label(m, e.From), label(m, e.To[0]), e.Fate))
	}
	want := []string{
		`send "g1" 127.0.0.1:50001 (fd 4)→server 127.0.0.1:43211 delivered`,
		`send "Hi, g1" server 127.0.0.1:43211→127.0.0.1:50001 (fd 4) delivered`,
		`send "g2" 127.0.0.1:50002 (fd 5)→server 127.0.0.1:43211 refused`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("datagrams:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(icmp) != 1 || label(m, icmp[0].To[0]) != "127.0.0.1:50002 (fd 5)" {
		t.Errorf("icmp %+v", icmp)
	}
	lay := m.layout()
	gaps := 0
	for _, r := range lay.rows {
		if r.kind == rowGap {
			gaps++
		}
	}
	if gaps != 1 {
		t.Errorf("%d breaks, want the 3 s pause", gaps)
	}
	if text := m.Text(80); !strings.Contains(text, `send "g1" (2 bytes)`) || strings.Contains(text, "sendto") || !strings.Contains(text, "recv →") {
		t.Errorf("the calls are not named as the script made them:\n%s", text)
	}
}

// lab is a one-LAN lab of hosts a, b, c (10.0.0.1-3) with their IPv6 addresses.
func lab() Env {
	var hosts []Host
	for i, n := range []string{"a", "b", "c"} {
		hosts = append(hosts, Host{Name: n, LANs: []string{"lan"},
			Addrs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), netip.MustParseAddr(fmt.Sprintf("fd00::%d", i+1))}})
	}
	return Env{Hosts: hosts}
}

// A socket is its host's: a and b both bound to 0.0.0.0:5000, c sends to b, b answers: the
// arrow goes to b's socket and comes back from it, never a's, which has the same port.
func TestIdentityIsNotThePort(t *testing.T) {
	any, c := ap("0.0.0.0:5000"), ap("10.0.0.3:40000")
	b := ap("10.0.0.2:5000")
	m := Build([]sock.CallEvent{
		{Time: at(0), Host: "a", FD: 7, Call: "socket", Result: 7}, {Time: at(0), Host: "a", FD: 7, Call: "bind", Peer: any, Local: any},
		{Time: at(1), Host: "b", FD: 7, Call: "socket", Result: 7}, {Time: at(1), Host: "b", FD: 7, Call: "bind", Peer: any, Local: any},
		{Time: at(2), Host: "c", FD: 7, Call: "socket", Result: 7},
		{Time: at(3), Host: "c", FD: 7, Call: "sendto", Result: 2, Peer: b, Local: c, Data: []byte("hi"), Len: 2},
		{Time: at(4), Host: "b", FD: 7, Call: "recvfrom", Result: 2, Peer: c, Local: any, Data: []byte("hi"), Len: 2},
		{Time: at(5), Host: "b", FD: 7, Call: "sendto", Result: 3, Peer: c, Local: any, Data: []byte("ack"), Len: 3},
		{Time: at(6), Host: "c", FD: 7, Call: "recvfrom", Result: 3, Peer: b, Local: c, Data: []byte("ack"), Len: 3},
	}, lab())
	d, _ := datagrams(m)
	if len(d) != 2 {
		t.Fatalf("datagrams %+v", d)
	}
	if l := m.lifeline(d[0].To[0]); l == nil || l.Host != "b" || d[0].Fate != FateDelivered {
		t.Errorf("c's datagram went to %+v (%s), want b's socket", l, d[0].Fate)
	}
	if l := m.lifeline(d[1].From); l == nil || l.Host != "b" {
		t.Errorf("the answer came from %+v, want b's socket", l)
	}
}

// An ICMP error comes from the host that sent it: the error queue's offender (a itself when ARP
// for c failed; b's firewall for a prohibition), with its type and code; with nothing to say who
// sent it, it comes from nowhere (drawn at the socket). In a lab a datagram with no evidence of
// its fate is of unknown fate.
func TestICMPSources(t *testing.T) {
	a, b, c := ap("10.0.0.1:41000"), ap("10.0.0.2:43211"), ap("10.0.0.3:43211")
	m := Build([]sock.CallEvent{
		{Time: at(0), Host: "a", FD: 7, Call: "socket", Result: 7},
		{Time: at(1), Host: "a", FD: 7, Call: "connect", Peer: c, Local: a},
		{Time: at(2), Host: "a", FD: 7, Call: "send", Result: 2, Peer: c, Local: a, Data: []byte("g1"), Len: 2},
		{Time: at(3000), Host: "a", FD: 7, Call: "recv", Errno: unix.EHOSTUNREACH, Peer: c, Local: a},
		{Time: at(3001), Host: "a", FD: 7, Call: "recverr", Type: 3, Code: 1, Offender: netip.MustParseAddr("10.0.0.1"), ICMP: "ICMP host unreachable (type 3, code 1)"},
		{Time: at(3002), Host: "a", FD: 7, Call: "connect", Peer: b, Local: a},
		{Time: at(3003), Host: "a", FD: 7, Call: "send", Result: 2, Peer: b, Local: a, Data: []byte("g2"), Len: 2},
		{Time: at(3004), Host: "a", FD: 7, Call: "recv", Errno: unix.EHOSTUNREACH, Peer: b, Local: a},
		{Time: at(3005), Host: "a", FD: 7, Call: "recverr", Type: 3, Code: 13, Offender: netip.MustParseAddr("10.0.0.2"), ICMP: "ICMP communication administratively prohibited (type 3, code 13)"},
		{Time: at(3006), Host: "a", FD: 7, Call: "send", Result: 2, Peer: b, Local: a, Data: []byte("g3"), Len: 2},
		{Time: at(3007), Host: "a", FD: 7, Call: "recv", Errno: unix.ECONNREFUSED, Peer: b, Local: a},
		{Time: at(3008), Host: "a", FD: 7, Call: "send", Result: 2, Peer: b, Local: a, Data: []byte("g4"), Len: 2},
	}, lab())
	d, icmp := datagrams(m)
	var got []string
	for _, e := range icmp {
		from := "nobody knows"
		if e.From != "" {
			from = label(m, e.From)
		}
		got = append(got, fmt.Sprintf("%s from %s", e.ICMP, from))
	}
	want := []string{"ICMP host unreachable (type 3, code 1) from a", "ICMP communication administratively prohibited (type 3, code 13) from b",
		"ICMP port unreachable (type 3, code 3) from nobody knows"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("icmp:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var fates []string
	for _, e := range d {
		fates = append(fates, e.Fate)
	}
	if strings.Join(fates, " ") != "dropped refused refused unknown" {
		t.Errorf("fates %v", fates)
	}
}

// natLab is a lab with a and c on LAN left (10.1.0.1, 10.1.0.2), b on right (10.2.0.1), and the
// router r on both (10.1.0.3, 10.2.0.2).
func natLab() Env {
	return Env{Hosts: []Host{
		{Name: "a", LANs: []string{"left"}, Addrs: []netip.Addr{netip.MustParseAddr("10.1.0.1")}},
		{Name: "b", LANs: []string{"right"}, Addrs: []netip.Addr{netip.MustParseAddr("10.2.0.1")}},
		{Name: "c", LANs: []string{"left"}, Addrs: []netip.Addr{netip.MustParseAddr("10.1.0.2")}},
		{Name: "r", LANs: []string{"left", "right"}, Router: true, Addrs: []netip.Addr{netip.MustParseAddr("10.1.0.3"), netip.MustParseAddr("10.2.0.2")}},
	}}
}

// Across a NAT, a datagram is one journey through the router, with the address it translated:
// from the calls (the server sees the router's address), and from the wire (captured on both
// LANs, the same datagram once).
func TestNAT(t *testing.T) {
	a, b, outside := ap("10.1.0.1:41000"), ap("10.2.0.1:43211"), ap("10.2.0.2:41000")
	calls := []sock.CallEvent{
		{Time: at(0), Host: "b", FD: 7, Call: "socket", Result: 7}, {Time: at(0), Host: "b", FD: 7, Call: "bind", Peer: b, Local: b},
		{Time: at(1), Host: "a", FD: 7, Call: "socket", Result: 7}, {Time: at(1), Host: "a", FD: 7, Call: "connect", Peer: b, Local: a},
		{Time: at(3), Host: "a", FD: 7, Call: "send", Start: at(2), Result: 2, Peer: b, Local: a, Data: []byte("g1"), Len: 2},
		{Time: at(5), Host: "b", FD: 7, Call: "recvfrom", Result: 2, Peer: outside, Local: b, Data: []byte("g1"), Len: 2},
		{Time: at(6), Host: "b", FD: 7, Call: "sendto", Result: 6, Peer: outside, Local: b, Data: []byte("Hi, g1"), Len: 6},
		{Time: at(8), Host: "a", FD: 7, Call: "recv", Result: 6, Peer: b, Local: a, Data: []byte("Hi, g1"), Len: 6},
	}
	check := func(name string, m *Model) {
		t.Helper()
		d, _ := datagrams(m)
		if len(d) != 2 {
			t.Fatalf("%s: %d datagrams, want 2 (each once): %+v", name, len(d), d)
		}
		for i, want := range []string{"source 10.2.0.2:41000", "destination 10.1.0.1:41000"} {
			if len(d[i].Via) != 1 || label(m, d[i].Via[0].Lifeline) != "r (router)" || d[i].Via[0].Addr != want || d[i].Fate != FateDelivered {
				t.Errorf("%s: datagram %d crossed %+v (%s), want r, %s", name, i, d[i].Via, d[i].Fate, want)
			}
		}
		if l := m.lifeline(d[1].To[0]); l == nil || l.Host != "a" {
			t.Errorf("%s: the answer went to %+v, want a's socket", name, l)
		}
	}
	check("from the calls", Build(calls, natLab()))
	wire := append(calls,
		sock.CallEvent{Time: at(3), Call: "packet", Link: "left", IPID: 77, Local: a, Peer: b, Data: []byte("g1"), Len: 2},
		sock.CallEvent{Time: at(4), Call: "packet", Link: "right", IPID: 77, Local: outside, Peer: b, Data: []byte("g1"), Len: 2},
		sock.CallEvent{Time: at(7), Call: "packet", Link: "right", IPID: 78, Local: b, Peer: outside, Data: []byte("Hi, g1"), Len: 6},
		sock.CallEvent{Time: at(7), Call: "packet", Link: "left", IPID: 78, Local: b, Peer: a, Data: []byte("Hi, g1"), Len: 6},
	)
	m := Build(wire, natLab())
	if !m.FromWire {
		t.Error("not from the wire")
	}
	check("from the wire", m)
}

// Time runs down the page in the order things happened: a send is drawn when it began (its
// datagram left during the call), so that a receive that ended after it comes after it, and
// every event's t is not before the one above it.
func TestTimeOrder(t *testing.T) {
	s, r := ap("10.0.0.1:40000"), ap("0.0.0.0:43300")
	m := Build([]sock.CallEvent{
		{Time: at(0), Host: "a", FD: 7, Call: "socket", Result: 7},
		{Time: at(0), Host: "b", FD: 7, Call: "socket", Result: 7}, {Time: at(0), Host: "b", FD: 7, Call: "bind", Peer: r, Local: r},
		{Time: at(10), Start: at(1), Host: "a", FD: 7, Call: "sendto", Result: 3, Peer: ap("10.0.0.255:43300"), Local: s, Data: []byte("one"), Len: 3},
		{Time: at(5), Host: "b", FD: 7, Call: "recvfrom", Result: 3, Peer: s, Local: r, Data: []byte("one"), Len: 3},
	}, lab())
	var order []string
	last := -1.0
	for _, e := range m.Events {
		if e.T < last {
			t.Errorf("t goes back: %v after %v", e.T, last)
		}
		last = e.T
		order = append(order, e.Kind+":"+e.Call)
	}
	if strings.Join(order, " ") != "call:socket call:socket call:bind datagram:sendto call:recvfrom" {
		t.Errorf("order %v", order)
	}
}

// The picture fits a screen: 20 sockets exchanging 1000 datagrams is at most 1920 px wide with
// 13 px text, a repeated exchange is folded, no labels overlap, and a run past what a page can
// hold says how much is not drawn.
func TestSizes(t *testing.T) {
	var events []sock.CallEvent
	addr := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(40000+i))
	}
	for i := 0; i < 20; i++ {
		events = append(events, sock.CallEvent{Time: at(0), FD: 3 + i, Call: "socket", Result: 3 + i},
			sock.CallEvent{Time: at(0), FD: 3 + i, Call: "bind", Peer: addr(i), Local: addr(i)})
	}
	for m := 0; m < 1000; m++ {
		from, to := m%20, (m*7+3)%20
		events = append(events, sock.CallEvent{Time: at(1 + m), FD: 3 + from, Call: "sendto", Result: 21, Peer: addr(to), Local: addr(from),
			Data: []byte(fmt.Sprintf("m%04d a longer payload", m)), Len: 21})
	}
	// a repeated exchange: 100 pings and pongs between two sockets
	for k := 0; k < 100; k++ {
		events = append(events,
			sock.CallEvent{Time: at(1100 + 2*k), FD: 3, Call: "send", Result: 4, Peer: addr(1), Local: addr(0), Data: []byte("ping"), Len: 4},
			sock.CallEvent{Time: at(1101 + 2*k), FD: 4, Call: "recv", Result: 4, Peer: addr(0), Local: addr(1), Data: []byte("ping"), Len: 4})
	}
	m := Build(events, Env{Dropped: 12345})
	shape, err := ReadSVG(bytes.NewReader(m.SVG()))
	if err != nil {
		t.Fatal(err)
	}
	if shape.Width > 1920 || shape.FontPx < 13 || shape.Height > 20000 {
		t.Errorf("%v x %v px, text %v px: want at most 1920 x 20000 and at least 13", shape.Width, shape.Height, shape.FontPx)
	}
	if o := Overlapping(shape.Boxes); o != "" {
		t.Errorf("labels overlap: %s", o)
	}
	if shape.Classes["fold"] == 0 || shape.Classes["more"] != 1 {
		t.Errorf("classes %v: want a folded exchange and the row that says what is not drawn", shape.Classes)
	}
	svg := string(m.SVG())
	if !strings.Contains(svg, "12345 calls and packets") || !strings.Contains(svg, "more like this") {
		t.Errorf("the picture does not say what it left out")
	}
	for _, banned := range []string{"<script", "href=\"http", "@import", "url(http"} {
		if strings.Contains(svg, banned) {
			t.Errorf("the SVG is not self-contained: %s", banned)
		}
	}
}

// What a datagram carries never reaches a terminal as a control: C1 controls (CSI, NEL), the
// right-to-left override and ESC are escaped as Lua reads them back; a digit after an escape
// keeps it whole.
func TestControlsEscaped(t *testing.T) {
	payload := "a\x1b[31mred\u009b1m\u0085x\u202Eevil\x01" + "2\xff"
	got := Quote(payload, 64)
	want := `"a\27[31mred\194\155` + `1m\194\133x\226\128\174evil\0012\255"`
	if got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
	srv, c := ap("127.0.0.1:43211"), ap("127.0.0.1:50001")
	m := Build([]sock.CallEvent{
		{Time: at(0), FD: 3, Call: "socket", Result: 3}, {Time: at(0), FD: 3, Call: "bind", Peer: srv, Local: srv},
		{Time: at(1), FD: 4, Call: "socket", Result: 4},
		{Time: at(2), FD: 4, Call: "sendto", Result: len(payload), Peer: srv, Local: c, Data: []byte(payload), Len: len(payload)},
		{Time: at(3), FD: 3, Call: "recvfrom", Result: len(payload), Peer: c, Local: srv, Data: []byte(payload), Len: len(payload)},
	}, Env{})
	for _, width := range []int{80, 40} {
		text := m.Text(width)
		for _, r := range text {
			if r < 0x20 && r != '\n' || r >= 0x7f && r < 0xa0 || r == 0x202e {
				t.Errorf("at %d columns the text form holds %U", width, r)
			}
		}
		if !strings.Contains(text, ":43211") || !strings.Contains(text, ":50001") {
			t.Errorf("at %d columns the headers lost the ports:\n%s", width, text)
		}
	}
}

// The JSON model has the fields the README documents, and reads back.
func TestJSON(t *testing.T) {
	var m struct {
		Lifelines []map[string]any
		Events    []map[string]any
	}
	if err := json.Unmarshal(Build(pinnedRun(), Env{}).JSON(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "kind", "host", "addr", "label"} {
		if _, ok := m.Lifelines[0][k]; !ok {
			t.Errorf("a lifeline has no %q", k)
		}
	}
	kinds := map[string]map[string]any{}
	for _, e := range m.Events {
		kinds[e["kind"].(string)] = e
	}
	for kind, keys := range map[string][]string{"call": {"t", "lifeline", "call", "result"}, "datagram": {"t", "from", "to", "data", "bytes", "fate"},
		"icmp": {"t", "from", "to", "type", "code"}} {
		for _, k := range keys {
			if _, ok := kinds[kind][k]; !ok {
				t.Errorf("a %s event has no %q: %v", kind, k, kinds[kind])
			}
		}
	}
}

// The README's picture is the SVG of refused.lua's run as this package draws it now.
func TestReadmePicture(t *testing.T) {
	got := Build(RefusedRun(), Env{}).SVG()
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

// A broadcast is one arrow to the group's address, with a receiver each: those whose receive
// returned it (recvfrom names the sender; recv does not, and the data tells).
func TestBroadcastFanOut(t *testing.T) {
	a, any, bc := ap("10.0.0.1:5000"), ap("0.0.0.0:43300"), ap("10.0.0.255:43300")
	m := Build([]sock.CallEvent{
		{Time: at(0), FD: 9, Host: "b", Call: "socket", Result: 9}, {Time: at(0), FD: 9, Host: "b", Call: "bind", Peer: any, Local: any},
		{Time: at(0), FD: 9, Host: "c", Call: "socket", Result: 9}, {Time: at(0), FD: 9, Host: "c", Call: "bind", Peer: any, Local: any},
		{Time: at(1), FD: 10, Host: "a", Call: "socket", Result: 10}, {Time: at(1), FD: 10, Host: "a", Call: "bind", Peer: a, Local: a},
		{Time: at(2), FD: 10, Host: "a", Call: "sendto", Peer: bc, Local: a, Data: []byte("all"), Len: 3, Result: 3},
		{Time: at(3), FD: 9, Host: "b", Call: "recvfrom", Peer: a, Local: any, Data: []byte("all"), Len: 3, Result: 3},
		{Time: at(4), FD: 9, Host: "c", Call: "recv", Local: any, Data: []byte("all"), Len: 3, Result: 3},
	}, lab())
	d, _ := datagrams(m)
	if len(d) != 1 || len(d[0].To) != 2 || m.lifeline(d[0].To[0]).Host != "b" || m.lifeline(d[0].To[1]).Host != "c" || d[0].Fate != FateDelivered {
		t.Errorf("the broadcast: %+v", d)
	}
}

// NATRun is nat.lua's first exchange as the calls record it: a on LAN left sends g1 to the
// server on b (LAN right) through r, which masquerades it; the server answers; c, behind the same
// router, is refused by the pinned server.
func NATRun() []sock.CallEvent {
	a, c, b := ap("10.1.0.1:41000"), ap("10.1.0.2:42000"), ap("10.2.0.1:43211")
	outA := ap("10.2.0.2:41000")
	return []sock.CallEvent{
		{Time: at(0), Call: "section", Data: []byte("r masquerades what leaves it on the right")},
		{Time: at(1), Host: "b", FD: 9, Call: "socket", Result: 9},
		{Time: at(1), Host: "b", FD: 9, Call: "label", Data: []byte("server")},
		{Time: at(2), Host: "b", FD: 9, Call: "bind", Peer: b, Local: b},
		{Time: at(3), Host: "a", FD: 11, Call: "socket", Result: 11},
		{Time: at(3), Host: "a", FD: 11, Call: "label", Data: []byte("client")},
		{Time: at(4), Host: "a", FD: 11, Call: "connect", Peer: b, Local: a},
		{Time: at(5), Host: "a", FD: 11, Call: "send", Result: 2, Peer: b, Local: a, Data: []byte("g1"), Len: 2},
		{Time: at(6), Host: "b", FD: 9, Call: "recvfrom", Result: 2, Peer: outA, Local: b, Data: []byte("g1"), Len: 2},
		{Time: at(7), Call: "section", Data: []byte("the pinned server pins the mapping")},
		{Time: at(8), Host: "b", FD: 9, Call: "connect", Peer: outA, Local: b},
		{Time: at(9), Host: "b", FD: 9, Call: "send", Result: 6, Peer: outA, Local: b, Data: []byte("Hi, g1"), Len: 6},
		{Time: at(10), Host: "a", FD: 11, Call: "recv", Result: 6, Peer: b, Local: a, Data: []byte("Hi, g1"), Len: 6},
		{Time: at(11), Host: "c", FD: 12, Call: "socket", Result: 12},
		{Time: at(11), Host: "c", FD: 12, Call: "label", Data: []byte("client2")},
		{Time: at(12), Host: "c", FD: 12, Call: "connect", Peer: b, Local: c},
		{Time: at(13), Host: "c", FD: 12, Call: "send", Result: 2, Peer: b, Local: c, Data: []byte("g2"), Len: 2},
		{Time: at(14), Host: "c", FD: 12, Call: "recv", Errno: unix.ECONNREFUSED, Peer: b, Local: c},
		{Time: at(15), Host: "c", FD: 12, Call: "recverr", Type: 3, Code: 3, Offender: netip.MustParseAddr("10.2.0.1"), ICMP: "ICMP port unreachable (type 3, code 3)"},
		{Time: at(16), Host: "c", FD: 12, Call: "close"},
		{Time: at(16), Host: "a", FD: 11, Call: "close"},
		{Time: at(17), Host: "b", FD: 9, Call: "close"},
	}
}

// The README's NAT picture is NATRun drawn now: the journey through r, with the translated
// addresses, and the refusal crossing back.
func TestReadmeNATPicture(t *testing.T) {
	m := Build(NATRun(), natLab())
	d, icmp := datagrams(m)
	if len(d) != 3 || len(d[0].Via) != 1 || len(icmp) != 1 || label(m, icmp[0].From) != "b" {
		t.Errorf("the NAT picture's story: %+v %+v", d, icmp)
	}
	got := m.SVG()
	path := filepath.Join("..", "docs", "nat.svg")
	if *update {
		os.WriteFile(path, got, 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("docs/nat.svg is not the current picture (go test ./diagram -update rewrites it): %v", err)
	}
}

// A receive returns the datagram a socket could have queued: one sent to its address (port,
// family, address or wildcard) when it arrived, and, connected, from its peer; never the same
// bytes sent earlier to another port, or another family, before the socket existed.
func TestReceiveNeedsTheAddress(t *testing.T) {
	b, a6001, a6002 := ap("10.0.0.2:5000"), ap("10.0.0.1:6001"), ap("10.0.0.1:6002")
	calls := []sock.CallEvent{
		{Time: at(0), Host: "b", FD: 7, Call: "socket", Result: 7}, {Time: at(0), Host: "b", FD: 7, Call: "bind", Peer: b, Local: b},
		{Time: at(2), Start: at(1), Host: "b", FD: 7, Call: "sendto", Result: 4, Peer: a6001, Local: b, Data: []byte("same"), Len: 4},
		{Time: at(3), Host: "a", FD: 8, Call: "socket", Result: 8}, {Time: at(4), Host: "a", FD: 8, Call: "bind", Peer: a6002, Local: a6002},
		{Time: at(6), Start: at(5), Host: "b", FD: 7, Call: "sendto", Result: 4, Peer: a6002, Local: b, Data: []byte("same"), Len: 4},
		{Time: at(7), Host: "a", FD: 8, Call: "recvfrom", Result: 4, Peer: b, Local: a6002, Data: []byte("same"), Len: 4},
	}
	check := func(name string, m *Model, firstFate string) {
		t.Helper()
		d, _ := datagrams(m)
		if len(d) != 2 {
			t.Fatalf("%s: %d datagrams, want 2: %+v", name, len(d), d)
		}
		if d[0].Fate != firstFate || label(m, d[0].To[0]) != "10.0.0.1:6001 (no socket)" {
			t.Errorf("%s: the datagram to :6001 is %s at %s; want %s at the address nobody held", name, d[0].Fate, label(m, d[0].To[0]), firstFate)
		}
		if d[1].Fate != FateDelivered || label(m, d[1].To[0]) != "10.0.0.1:6002 (fd 8)" {
			t.Errorf("%s: the datagram to :6002 is %s at %s; want delivered to the socket bound there", name, d[1].Fate, label(m, d[1].To[0]))
		}
	}
	check("from the calls", Build(calls, lab()), FateUnknown)
	wire := append(slices.Clone(calls),
		sock.CallEvent{Time: at(1), Call: "packet", Link: "lan", IPID: 1, Local: b, Peer: a6001, Data: []byte("same"), Len: 4},
		sock.CallEvent{Time: at(1), Call: "packet", Link: "lan", Local: ap("10.0.0.1:0"), ICMP: "ICMP port unreachable (type 3, code 3)", Type: 3, Code: 3, About: b, AboutTo: a6001},
		sock.CallEvent{Time: at(5), Call: "packet", Link: "lan", IPID: 2, Local: b, Peer: a6002, Data: []byte("same"), Len: 4},
	)
	check("from the wire", Build(wire, lab()), FateRefused)

	// the same bytes to a's IPv4 address and port 7000; a's IPv6 socket on that port does not get them
	v6 := ap("[fd00::1]:7000")
	m := Build([]sock.CallEvent{
		{Time: at(0), Host: "b", FD: 7, Call: "socket", Result: 7}, {Time: at(0), Host: "b", FD: 7, Call: "bind", Peer: b, Local: b},
		{Time: at(1), Host: "a", FD: 8, Call: "socket", Result: 8}, {Time: at(1), Host: "a", FD: 8, Call: "bind", Peer: v6, Local: v6},
		{Time: at(2), Host: "b", FD: 7, Call: "sendto", Result: 5, Peer: ap("10.0.0.1:7000"), Local: b, Data: []byte("reply"), Len: 5},
		{Time: at(3), Host: "a", FD: 8, Call: "recv", Result: 5, Local: v6, Data: []byte("reply"), Len: 5},
	}, lab())
	if d, _ := datagrams(m); d[0].Fate == FateDelivered {
		t.Errorf("an IPv4 datagram drawn delivered to a socket bound to an IPv6 address: %+v", d[0])
	}

	// a connected socket: what was queued before connect is still received; what another host
	// sent after it is not, though it carries the same bytes
	srv, c, other := ap("10.0.0.1:7000"), ap("10.0.0.3:9"), ap("10.0.0.2:9")
	m = Build([]sock.CallEvent{
		{Time: at(0), Host: "a", FD: 8, Call: "socket", Result: 8}, {Time: at(0), Host: "a", FD: 8, Call: "bind", Peer: srv, Local: srv},
		{Time: at(1), Host: "b", FD: 7, Call: "sendto", Result: 6, Peer: srv, Local: other, Data: []byte("early"), Len: 5},
		{Time: at(2), Host: "a", FD: 8, Call: "connect", Peer: c, Local: srv},
		{Time: at(3), Host: "b", FD: 7, Call: "sendto", Result: 1, Peer: srv, Local: other, Data: []byte("x"), Len: 1},
		{Time: at(4), Host: "c", FD: 7, Call: "sendto", Result: 1, Peer: srv, Local: c, Data: []byte("x"), Len: 1},
		{Time: at(5), Host: "a", FD: 8, Call: "recv", Result: 5, Peer: c, Local: srv, Data: []byte("early"), Len: 5},
		{Time: at(6), Host: "a", FD: 8, Call: "recv", Result: 1, Peer: c, Local: srv, Data: []byte("x"), Len: 1},
	}, lab())
	var got []string
	d, _ := datagrams(m)
	for _, e := range d {
		got = append(got, fmt.Sprintf("%s from %s: %s", e.Data, label(m, e.From), e.Fate))
	}
	want := []string{`"early" from 10.0.0.2:9 (fd 7): delivered`, `"x" from 10.0.0.2:9 (fd 7): unknown`, `"x" from 10.0.0.3:9 (fd 7): delivered`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("to a connected socket:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A datagram an ICMP error came back for ends where it stopped: at the router that sent the
// error (rejected by its firewall, its TTL spent there, or dropped there, as the wire shows: seen
// on a's LAN, never on b's), at the destination's kernel when its firewall prohibited it; never
// at the socket bound where it was going. A bare EHOSTUNREACH names no place: its fate is unknown.
func TestStoppedOnTheWay(t *testing.T) {
	a, b := ap("10.1.0.1:41000"), ap("10.2.0.1:7000")
	rLeft := netip.MustParseAddr("10.1.0.3")
	start := []sock.CallEvent{
		{Time: at(0), Host: "b", FD: 7, Call: "socket", Result: 7}, {Time: at(0), Host: "b", FD: 7, Call: "bind", Peer: b, Local: b},
		{Time: at(1), Host: "a", FD: 7, Call: "socket", Result: 7}, {Time: at(1), Host: "a", FD: 7, Call: "connect", Peer: b, Local: a},
	}
	send := func(ms int, data string) sock.CallEvent {
		return sock.CallEvent{Time: at(ms), Host: "a", FD: 7, Call: "send", Result: len(data), Peer: b, Local: a, Data: []byte(data), Len: len(data)}
	}
	recv := func(ms int, errno unix.Errno) sock.CallEvent {
		return sock.CallEvent{Time: at(ms), Host: "a", FD: 7, Call: "recv", Errno: errno, Peer: b, Local: a}
	}
	packet := func(ms int, link, data string) sock.CallEvent {
		return sock.CallEvent{Time: at(ms), Call: "packet", Link: link, IPID: ms, Local: a, Peer: b, Data: []byte(data), Len: len(data)}
	}
	icmp := func(ms int, from netip.Addr, typ, code int, name string) sock.CallEvent {
		return sock.CallEvent{Time: at(ms), Call: "packet", Link: "left", Local: netip.AddrPortFrom(from, 0), ICMP: name, Type: typ, Code: code, About: a, AboutTo: b}
	}
	for _, tc := range []struct {
		name   string
		events []sock.CallEvent
		to     string
		fate   string
	}{
		{"r rejects, from the error queue", []sock.CallEvent{send(10, "p3"), recv(11, unix.EHOSTUNREACH),
			{Time: at(12), Host: "a", FD: 7, Call: "recverr", Type: 3, Code: 13, Offender: rLeft, ICMP: "ICMP communication administratively prohibited (type 3, code 13)"}},
			"r (router)", FateRefused},
		{"r rejects, captured", []sock.CallEvent{send(10, "p3"), packet(10, "left", "p3"), icmp(10, rLeft, 3, 13, "ICMP communication administratively prohibited (type 3, code 13)"), recv(11, unix.EHOSTUNREACH)},
			"r (router)", FateRefused},
		{"TTL 1 dies at r, captured", []sock.CallEvent{send(10, "p4"), packet(10, "left", "p4"), icmp(10, rLeft, 11, 0, "ICMP time exceeded (type 11, code 0)"), recv(11, unix.EHOSTUNREACH)},
			"r (router)", FateDropped},
		{"r drops: seen on the left, never on the right", []sock.CallEvent{send(10, "p2"), packet(10, "left", "p2"), recv(300, unix.EAGAIN)},
			"r (router)", FateDropped},
		{"b's firewall rejects, from the error queue", []sock.CallEvent{send(10, "r1"), recv(11, unix.EHOSTUNREACH),
			{Time: at(12), Host: "a", FD: 7, Call: "recverr", Type: 3, Code: 13, Offender: netip.MustParseAddr("10.2.0.1"), ICMP: "ICMP communication administratively prohibited (type 3, code 13)"}},
			"b", FateRefused},
		{"a bare EHOSTUNREACH", []sock.CallEvent{send(10, "r1"), recv(11, unix.EHOSTUNREACH)},
			"10.2.0.1:7000 (fd 7)", FateUnknown},
	} {
		m := Build(append(slices.Clone(start), tc.events...), natLab())
		d, _ := datagrams(m)
		if len(d) != 1 || label(m, d[0].To[0]) != tc.to || d[0].Fate != tc.fate {
			t.Errorf("%s: %+v; want %s at %s", tc.name, d, tc.fate, tc.to)
			continue
		}
		if crossed := len(d[0].Via) > 0; crossed != (tc.to != "r (router)") {
			t.Errorf("%s: it crossed %+v; want r where it went past r, and no router where r stopped it", tc.name, d[0].Via)
		}
	}
}
