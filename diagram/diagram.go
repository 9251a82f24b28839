// Package diagram draws a run as a message-sequence diagram: one lifeline per socket, each call as
// a label on its socket's lifeline, each datagram as an arrow from the socket that sent it to the
// socket that got it (or to a cross where nobody listened), and the ICMP errors that came back
// as dashed red arrows. Time runs down the page; long idle gaps are drawn as a break.
//
// It is drawn from the calls sock's Tracer records (sock.CallEvent): an arrow goes from a send to
// the traced socket that owns the address it was sent to, and an ICMP error is inferred where a
// call fails with the errno it gives. The same layout is written as text for a terminal (Text)
// and as a self-contained SVG or HTML page for a browser (SVG, HTML).
package diagram

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// Kind is what a row of the diagram shows.
type Kind int

// The kinds of row.
const (
	Call     Kind = iota // a call's label on its socket's lifeline
	Datagram             // an arrow from the socket that sent a datagram to the one that got it
	ICMP                 // a dashed arrow: the ICMP error that came back for a datagram
	Gap                  // a break: nothing happened for a while
)

// Lifeline is one socket, or an address no traced socket owns.
type Lifeline struct {
	Label  string // "127.0.0.1:48073 (fd 3)", "a 10.0.0.1:5000 (fd 7)", "127.0.0.1:43211 (no socket)"
	Nobody bool   // an address no traced socket owned when a datagram was sent to it
	First  int    // the row it starts at
	Last   int    // the row it ends at: its close, or the last row
	Closed bool   // it ended with close

	host  string
	fd    int
	local netip.AddrPort
	peer  netip.AddrPort // the peer it is connected to
}

// Row is one step down the page.
type Row struct {
	Kind     Kind
	Time     time.Time
	Line     int    // the lifeline of a Call
	From, To int    // the lifelines of an arrow
	Text     string // the label
	Error    bool   // a failed call, or an ICMP error: drawn in red
	Lost     bool   // a datagram nobody received: the arrow ends on a cross
	// Heads are the sockets that received a broadcast or multicast datagram: the arrow to the
	// group's lifeline (To) has a head at each of them too.
	Heads  []int
	Detail string // the whole call, for hovering in HTML
}

// Diagram is the layout of a run: its lifelines, in order of appearance, and its rows.
type Diagram struct {
	Lifelines []Lifeline
	Rows      []Row
	// FromWire: the arrows are the packets the wire view captured; else they are inferred from
	// the calls.
	FromWire bool
}

// gapThreshold is how long nothing must happen for a break to be drawn.
const gapThreshold = time.Second

// Build lays out the recorded calls.
func Build(events []sock.CallEvent) *Diagram {
	b := &builder{d: &Diagram{}, open: map[string]int{}, nobody: map[string]int{}, pending: map[int][]int{}, lastTo: map[int]int{}, group: map[string]int{}}
	for _, ev := range events {
		if ev.Call == "packet" {
			b.d.FromWire = true
			break
		}
	}
	if b.d.FromWire {
		events = sendsFirst(events)
	}
	var last time.Time
	for _, ev := range events {
		if !last.IsZero() && ev.Time.Sub(last) >= gapThreshold {
			b.add(Row{Kind: Gap, Time: ev.Time, Text: fmt.Sprintf("%.1f s later", ev.Time.Sub(last).Seconds())})
		}
		last = ev.Time
		b.event(ev)
	}
	for i := range b.d.Lifelines {
		l := &b.d.Lifelines[i]
		if !l.Closed {
			l.Last = len(b.d.Rows)
		}
		if !l.Nobody {
			l.Label = socketLabel(l)
		}
	}
	return b.d
}

type builder struct {
	d       *Diagram
	open    map[string]int // "host/fd" → lifeline of the socket open on it
	nobody  map[string]int // "host/address" → lifeline of an address nobody owned
	pending map[int][]int  // lifeline → the senders of the datagrams drawn to it, not yet received
	lastTo  map[int]int    // lifeline → the lifeline it last sent a datagram to
	group   map[string]int // "host/sender address" → the row of its last broadcast or multicast
}

func (b *builder) add(r Row) int {
	b.d.Rows = append(b.d.Rows, r)
	return len(b.d.Rows) - 1
}

func socketKey(host string, fd int) string { return host + "/" + strconv.Itoa(fd) }

// socket returns the lifeline of the socket ev was made on, starting one if needed.
func (b *builder) socket(ev sock.CallEvent) int {
	key := socketKey(ev.Host, ev.FD)
	if i, ok := b.open[key]; ok && ev.Call != "socket" {
		return i
	}
	b.d.Lifelines = append(b.d.Lifelines, Lifeline{host: ev.Host, fd: ev.FD, First: len(b.d.Rows)})
	i := len(b.d.Lifelines) - 1
	b.open[key] = i
	return i
}

// owner returns the open lifeline whose socket has the address to, or -1.
func (b *builder) owner(host string, to netip.AddrPort) int {
	best := -1
	for _, i := range b.open {
		l := &b.d.Lifelines[i]
		if !l.local.IsValid() || l.local.Port() != to.Port() {
			continue
		}
		if l.local.Addr() == to.Addr() || l.local.Addr().Unmap() == to.Addr().Unmap() {
			return i
		}
		// bound to the wildcard address: it owns the port on its host's addresses
		if l.local.Addr().IsUnspecified() && (l.host == host || !to.Addr().IsLoopback()) && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

// nobodyAt returns the lifeline of the address to, where no traced socket listened.
func (b *builder) nobodyAt(host string, to netip.AddrPort) int {
	key := host + "/" + to.String()
	if i, ok := b.nobody[key]; ok {
		return i
	}
	label := to.String() + " (no socket)"
	if host != "" && to.Addr().IsLoopback() {
		label = host + " " + label
	}
	b.d.Lifelines = append(b.d.Lifelines, Lifeline{Label: label, Nobody: true, First: len(b.d.Rows), host: host, local: to})
	i := len(b.d.Lifelines) - 1
	b.nobody[key] = i
	return i
}

func (b *builder) event(ev sock.CallEvent) {
	if ev.Call == "packet" {
		b.packet(ev)
		return
	}
	if b.d.FromWire {
		b.callBeside(ev)
		return
	}
	line := b.socket(ev)
	l := &b.d.Lifelines[line]
	if ev.Local.IsValid() && ev.Local.Port() != 0 {
		l.local = ev.Local
	}
	detail := callDetail(ev)
	switch {
	case ev.Call == "connect" && ev.Errno == 0:
		l.peer = ev.Peer
		if ev.Unspec {
			l.peer = netip.AddrPort{}
		}
		b.add(Row{Kind: Call, Time: ev.Time, Line: line, Text: callText(ev), Detail: detail})
	case ev.Call == "sendto" && ev.Errno == 0 && ev.Peer.IsValid() && isGroup(ev.Peer.Addr()):
		// to many: an arrow to the group's address, with a head at each socket that gets it
		to := b.nobodyAt(ev.Host, ev.Peer)
		kind := "broadcast"
		if ev.Peer.Addr().IsMulticast() {
			kind = "multicast"
		}
		b.d.Lifelines[to].Label = ev.Peer.String() + " (" + kind + ")"
		b.group[ev.Host+"/"+l.local.String()] = b.add(Row{Kind: Datagram, Time: ev.Time, From: line, To: to, Text: "sendto " + payload(ev), Detail: detail})
	case ev.Call == "sendto" && ev.Errno == 0 && ev.Peer.IsValid():
		to := b.owner(ev.Host, ev.Peer)
		lost := to < 0
		switch {
		case lost:
			to = b.nobodyAt(ev.Host, ev.Peer)
		case b.d.Lifelines[to].peer.IsValid() && b.d.Lifelines[to].peer != l.local:
			lost = true // a connected socket takes its peer's datagrams only: the kernel refuses it
		default:
			b.pending[to] = append(b.pending[to], line)
		}
		b.lastTo[line] = to
		b.add(Row{Kind: Datagram, Time: ev.Time, From: line, To: to, Lost: lost, Text: "sendto " + payload(ev), Detail: detail})
	case ev.Call == "recvfrom" && ev.Errno == 0:
		queue := b.pending[line]
		if len(queue) > 0 {
			b.pending[line] = queue[1:]
		} else if r, ok := b.groupRow(ev); ok {
			if !slices.Contains(b.d.Rows[r].Heads, line) {
				b.d.Rows[r].Heads = append(b.d.Rows[r].Heads, line)
			}
		} else if ev.Peer.IsValid() {
			// from a socket udplab did not trace: its arrow comes now
			from := b.nobodyAt(ev.Host, ev.Peer)
			b.d.Lifelines[from].Label = ev.Peer.String() + " (not traced)"
			b.add(Row{Kind: Datagram, Time: ev.Time, From: from, To: line, Text: payload(ev), Detail: detail})
		}
		b.add(Row{Kind: Call, Time: ev.Time, Line: line, Text: "recvfrom → " + payload(ev), Detail: detail})
	default:
		if icmp := icmpFor(ev.Errno); icmp != "" {
			if from, ok := b.lastTo[line]; ok {
				b.add(Row{Kind: ICMP, Time: ev.Time, From: from, To: line, Error: true, Text: icmp, Detail: "inferred from " + unix.ErrnoName(ev.Errno)})
			}
		}
		b.add(Row{Kind: Call, Time: ev.Time, Line: line, Text: callText(ev), Error: ev.Errno != 0 && ev.Errno != unix.EAGAIN, Detail: detail})
		if ev.Call == "close" && ev.Errno == 0 {
			l := &b.d.Lifelines[line]
			l.Closed, l.Last = true, len(b.d.Rows)-1
			delete(b.open, socketKey(ev.Host, ev.FD))
		}
	}
}

// sendsFirst puts each send before the packet it made: the capture may read the packet (in the
// background) before the send call is recorded, as the call is recorded once it returned.
func sendsFirst(events []sock.CallEvent) []sock.CallEvent {
	events = append([]sock.CallEvent(nil), events...)
	for i := 0; i < len(events); i++ {
		p := events[i]
		if p.Call != "packet" || p.ICMP != "" {
			continue
		}
		for j := i + 1; j < len(events) && j <= i+4; j++ {
			s := events[j]
			if s.Call == "sendto" && s.Errno == 0 && s.Len == p.Len && sameSource(s.Local, p.Local) {
				copy(events[i+1:j+1], events[i:j])
				events[i] = s
				i++
				break
			}
		}
	}
	return events
}

// sameSource says a packet from source came from a socket whose local address is local (which
// may be a wildcard address: the packet's then names the interface's).
func sameSource(local, source netip.AddrPort) bool {
	return !local.IsValid() || local.Port() == source.Port() && (local.Addr() == source.Addr() || local.Addr().IsUnspecified())
}

// callBeside lays out a call when the wire view draws the arrows: a label on its lifeline, and
// the arrow only for a datagram received from a socket that no packet showed.
func (b *builder) callBeside(ev sock.CallEvent) {
	line := b.socket(ev)
	l := &b.d.Lifelines[line]
	if ev.Local.IsValid() && ev.Local.Port() != 0 {
		l.local = ev.Local
	}
	if ev.Call == "connect" && ev.Errno == 0 {
		l.peer = ev.Peer
		if ev.Unspec {
			l.peer = netip.AddrPort{}
		}
	}
	text := callText(ev)
	switch {
	case ev.Call == "sendto" && ev.Errno == 0:
		text = "sendto " + payload(ev)
	case ev.Call == "recvfrom" && ev.Errno == 0:
		text = "recvfrom → " + payload(ev)
		if r, ok := b.groupRow(ev); ok && !slices.Contains(b.d.Rows[r].Heads, line) {
			b.d.Rows[r].Heads = append(b.d.Rows[r].Heads, line)
		}
	}
	b.add(Row{Kind: Call, Time: ev.Time, Line: line, Text: text, Error: ev.Errno != 0 && ev.Errno != unix.EAGAIN, Detail: callDetail(ev)})
	if ev.Call == "close" && ev.Errno == 0 {
		l := &b.d.Lifelines[line]
		l.Closed, l.Last = true, len(b.d.Rows)-1
		delete(b.open, socketKey(ev.Host, ev.FD))
	}
}

// packet lays out a packet the wire view captured: a datagram from the socket that owns its
// source to the one that owns its destination (a cross where none does, or where a connected
// socket refuses it), or an ICMP error from the host that sent it back to the socket it is for.
func (b *builder) packet(ev sock.CallEvent) {
	endpoint := func(a netip.AddrPort, nobody string) int {
		if i := b.ownerAnywhere(a); i >= 0 {
			return i
		}
		i := b.nobodyAt("", a)
		if nobody != "" && !strings.HasSuffix(b.d.Lifelines[i].Label, ")") {
			b.d.Lifelines[i].Label = a.String() + nobody
		}
		return i
	}
	detail := "captured: " + ev.Local.String() + " > " + ev.Peer.String()
	if ev.ICMP != "" {
		to := endpoint(ev.About, " (not traced)")
		from := endpoint(ev.Peer, "")
		b.add(Row{Kind: ICMP, Time: ev.Time, From: from, To: to, Error: true, Text: ev.ICMP,
			Detail: detail + ", " + ev.ICMP + " from " + ev.Local.Addr().String()})
		return
	}
	from := endpoint(ev.Local, " (not traced)")
	if isGroup(ev.Peer.Addr()) {
		to := b.nobodyAt("", ev.Peer)
		kind := "broadcast"
		if ev.Peer.Addr().IsMulticast() {
			kind = "multicast"
		}
		b.d.Lifelines[to].Label = ev.Peer.String() + " (" + kind + ")"
		b.group["/"+ev.Local.String()] = b.add(Row{Kind: Datagram, Time: ev.Time, From: from, To: to, Text: payload(ev), Detail: detail})
		return
	}
	to := b.ownerAnywhere(ev.Peer)
	lost := to < 0
	switch {
	case lost:
		to = b.nobodyAt("", ev.Peer)
	case b.d.Lifelines[to].peer.IsValid() && b.d.Lifelines[to].peer != ev.Local:
		lost = true
	}
	b.add(Row{Kind: Datagram, Time: ev.Time, From: from, To: to, Lost: lost, Text: payload(ev), Detail: detail})
}

// ownerAnywhere is owner for a packet, which carries no host: the open socket with the address,
// or bound to the wildcard address on its port.
func (b *builder) ownerAnywhere(a netip.AddrPort) int {
	return b.owner("", a)
}

// groupRow finds the broadcast or multicast the datagram ev received came with: the last one its
// sender sent, on any host of the lab.
func (b *builder) groupRow(ev sock.CallEvent) (int, bool) {
	if ev.Peer.IsValid() {
		for key, r := range b.group {
			if strings.HasSuffix(key, "/"+ev.Peer.String()) {
				return r, true
			}
		}
		return 0, false
	}
	// recv does not say who sent: the latest group datagram to the receiver's port
	best := -1
	for _, r := range b.group {
		if to := b.d.Lifelines[b.d.Rows[r].To].local; to.Port() == ev.Local.Port() && r > best {
			best = r
		}
	}
	return best, best >= 0
}

// isGroup says a datagram to a goes to many: a multicast group, or an IPv4 broadcast address
// (255.255.255.255, or one ending in .255, the broadcast address of the /24 LANs udplab's lab
// and most LANs use).
func isGroup(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsMulticast() {
		return true
	}
	return a.Is4() && a.As4()[3] == 255
}

// icmpFor names the ICMP error behind errno e, as Linux reports it on a UDP socket.
func icmpFor(e unix.Errno) string {
	switch e {
	case unix.ECONNREFUSED:
		return "ICMP port unreachable (3/3)"
	case unix.EHOSTUNREACH:
		return "ICMP host unreachable"
	case unix.ENETUNREACH:
		return "ICMP net unreachable"
	}
	return ""
}

// callText is a call's label: "connect 127.0.0.1:43211 → 0", "recvfrom → ECONNREFUSED (111)".
func callText(ev sock.CallEvent) string {
	name := ev.Call
	switch {
	case ev.Unspec:
		name += " AF_UNSPEC"
	case (ev.Call == "connect" || ev.Call == "bind") && ev.Peer.IsValid():
		name += " " + ev.Peer.String()
	}
	return name + " → " + result(ev)
}

func result(ev sock.CallEvent) string {
	if ev.Errno != 0 {
		return unix.ErrnoName(ev.Errno) + " (" + strconv.Itoa(int(ev.Errno)) + ")"
	}
	return strconv.Itoa(ev.Result)
}

// callDetail is the whole call, for hovering.
func callDetail(ev sock.CallEvent) string {
	s := fmt.Sprintf("%s  fd %d", ev.Call, ev.FD)
	if ev.Host != "" {
		s += " in " + ev.Host
	}
	if ev.Local.IsValid() {
		s += ", local " + ev.Local.String()
	}
	if ev.Peer.IsValid() {
		s += ", peer " + ev.Peer.String()
	}
	if ev.Len > 0 {
		s += fmt.Sprintf(", %d bytes %s", ev.Len, Quote(string(ev.Data), 64))
	}
	return s + " → " + result(ev) + "  at " + ev.Time.Format("15:04:05.000000")
}

// payload is a datagram's label: its data quoted and cut, and its length.
func payload(ev sock.CallEvent) string {
	return fmt.Sprintf("%s (%d bytes)", Quote(string(ev.Data), 12), ev.Len)
}

// socketLabel names a socket's lifeline: its host, its address and its descriptor.
func socketLabel(l *Lifeline) string {
	addr := "unbound"
	if l.local.IsValid() {
		addr = l.local.String()
	}
	label := fmt.Sprintf("%s (fd %d)", addr, l.fd)
	if l.host != "" {
		label = l.host + " " + label
	}
	return label
}

// Quote writes s as a Lua string literal, cut after max bytes with "...".
func Quote(s string, max int) string {
	cut := len(s) > max
	if cut {
		s = s[:max]
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r == '\n':
			b.WriteString(`\n`)
		case r == utf8.RuneError || r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\%d`, s[i])
			size = 1
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if cut {
		b.WriteString("...")
	}
	b.WriteByte('"')
	return b.String()
}
