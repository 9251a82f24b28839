package diagram

import (
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// Build makes the model of a run from its recorded events (calls, and the packets the wire view
// captured) and what env says of its labs.
//
// Where a datagram went is decided as the kernel decides it, from what the run saw: a receive
// that returned it, on a socket that could have queued it (delivered to that socket); an ICMP
// error about it, captured, read from the error queue, or known from the error a call returned
// (refused, or dropped on the way, where the error came from); on this machine, the sockets
// bound to its destination (one that takes it, or none: refused); with the wire view, the LANs
// it was seen on. In a lab without such evidence its fate is unknown: a program udplab does not
// trace may have taken it.
func Build(events []sock.CallEvent, env Env) *Model {
	b := &builder{m: &Model{Dropped: env.Dropped}, hostOf: map[netip.Addr]string{}, hosts: map[string]*Host{},
		open: map[sockKey]int{}, pending: map[sockKey]sock.CallEvent{}, hostLine: map[string]int{}, nobody: map[string]int{}, lastSent: map[int]*sent{},
		pendingICMP: map[int]int{}, icmpLink: map[int]string{}}
	for i := range env.Hosts {
		h := &env.Hosts[i]
		b.hosts[h.Name] = h
		b.hostOrder = append(b.hostOrder, h.Name)
		for _, a := range h.Addrs {
			b.hostOf[a] = h.Name
		}
	}
	events = append([]sock.CallEvent(nil), events...)
	sort.SliceStable(events, func(i, j int) bool { return when(events[i]).Before(when(events[j])) })
	for _, ev := range events {
		if ev.Call == "packet" && !b.m.FromWire {
			b.m.FromWire, b.firstCapture = true, ev.Time
		}
	}
	if len(events) > 0 {
		b.m.Start = when(events[0])
	}
	for _, ev := range events {
		b.event(ev)
	}
	b.finish()
	return b.m
}

// when is the moment an event is drawn at: a send when it began (its datagram leaves during the
// call), anything else when it happened.
func when(ev sock.CallEvent) time.Time {
	if !ev.Start.IsZero() {
		return ev.Start
	}
	return ev.Time
}

type sockKey struct {
	owner, host string
	fd          int
}

// sent is a datagram the run sent (or a packet of one from a program udplab does not trace).
type sent struct {
	ev       int // its event
	from     int // the lifeline that sent it
	host     string
	src      netip.AddrPort // the sender's address (its local address; a packet's source)
	dst      netip.AddrPort
	data     []byte
	n        int
	at       time.Time
	seen     time.Time // when it was last captured
	ipid     int
	links    map[string]netip.AddrPort // the links it was captured on, with its source there
	dsts     map[string]netip.AddrPort // and its destination there
	received []int                     // the lifelines that received it
	peeked   []int                     // the lifelines that looked at it (MSG_PEEK) and left it queued
	target   int                       // where it was going: the socket that holds dst, or a nobody lifeline; -1: unknown
	fate     string
	icmp     int // the event of the ICMP error about it; -1: none
	// onTheWay: it stopped before its destination's host (target is where): no router past
	// there is drawn
	onTheWay bool
}

type builder struct {
	m         *Model
	hosts     map[string]*Host
	hostOrder []string
	hostOf    map[netip.Addr]string
	open      map[sockKey]int // the lifelines of the sockets open now
	// pending are the sockets open when recording began (an "open" event): drawn from their
	// first event, or from the first datagram to their address.
	pending  map[sockKey]sock.CallEvent
	hostLine map[string]int // a host's lifeline ("" for this machine)
	nobody   map[string]int // host "/" address → its lifeline
	sents    []*sent
	lastSent map[int]*sent // a socket's last datagram: an error it gets is about it
	// pendingICMP: a socket's inferred ICMP error whose source the error queue may tell.
	pendingICMP map[int]int
	icmpLink    map[int]string // a captured ICMP error's event → the link it was first seen on
	// firstCapture is when the wire view captured its first packet: a datagram sent since, that
	// no LAN saw, never left its host
	firstCapture time.Time
	seq          int
}

func (b *builder) t(at time.Time) float64 {
	if b.m.Start.IsZero() {
		return 0
	}
	return float64(at.Sub(b.m.Start).Microseconds()) / 1e6
}

func (b *builder) add(ev Event) int {
	b.m.Events = append(b.m.Events, ev)
	return len(b.m.Events) - 1
}

func (b *builder) newLifeline(l Lifeline) int {
	b.seq++
	l.seq = b.seq
	l.ID = fmt.Sprintf("%s%d", map[string]string{KindSocket: "s", KindHost: "h", KindRouter: "r", KindNobody: "n"}[l.Kind], len(b.m.Lifelines)+1)
	b.m.Lifelines = append(b.m.Lifelines, l)
	return len(b.m.Lifelines) - 1
}

func (b *builder) id(i int) string {
	if i < 0 {
		return ""
	}
	return b.m.Lifelines[i].ID
}

// hostName is the host that holds address a: a lab host, or "" for this machine (loopback, and
// any address not a lab's).
func (b *builder) hostName(a netip.Addr) string {
	return b.hostOf[a.Unmap()]
}

// hostLifeline is the lifeline of host's kernel.
func (b *builder) hostLifeline(host string, at time.Time) int {
	if i, ok := b.hostLine[host]; ok {
		return i
	}
	l := Lifeline{Kind: KindHost, Host: host, Label: "this machine", From: b.t(at)}
	if h := b.hosts[host]; h != nil {
		l.Label = host
		var addrs []string
		for _, a := range h.Addrs {
			addrs = append(addrs, a.String())
		}
		l.Addr = strings.Join(addrs, ", ")
		if h.Router {
			l.Kind = KindRouter
			l.Label = host + " (router)"
		}
	}
	i := b.newLifeline(l)
	b.hostLine[host] = i
	return i
}

// socket returns the lifeline of the socket ev was made on, starting one if needed: with what
// its "open" event said, for a socket open when recording began.
func (b *builder) socket(ev sock.CallEvent) int {
	key := sockKey{ev.Owner, ev.Host, ev.FD}
	if i, ok := b.open[key]; ok && ev.Call != "socket" {
		return i
	}
	l := Lifeline{Kind: KindSocket, Host: ev.Host, Owner: ev.Owner, FD: ev.FD, From: b.t(when(ev))}
	if p, ok := b.pending[key]; ok && ev.Call != "socket" {
		l.local, l.peer, l.Role = p.Local, p.Peer, string(p.Data)
		l.note(time.Time{}) // its addresses since before recording began
	}
	delete(b.pending, key)
	i := b.newLifeline(l)
	b.open[key] = i
	return i
}

// isOpen says the socket of key has a lifeline open now.
func (b *builder) isOpen(key sockKey) bool {
	_, ok := b.open[key]
	return ok
}

// nobodyAt returns the lifeline of address a, where no traced socket was: label says why ("no
// socket", "not traced").
func (b *builder) nobodyAt(a netip.AddrPort, label string, at time.Time) int {
	return b.nobodyIn(b.hostName(a.Addr()), a, label, at)
}

// nobodyIn is nobodyAt in host's column: a group's address is drawn beside its sender.
func (b *builder) nobodyIn(host string, a netip.AddrPort, label string, at time.Time) int {
	key := host + "/" + a.String()
	if i, ok := b.nobody[key]; ok {
		return i
	}
	i := b.newLifeline(Lifeline{Kind: KindNobody, Host: host, Addr: a.String(), Label: a.String() + " (" + label + ")", local: a, From: b.t(at)})
	b.nobody[key] = i
	return i
}

func (b *builder) event(ev sock.CallEvent) {
	switch ev.Call {
	case "packet":
		b.packet(ev)
		return
	case "section":
		b.add(Event{T: b.t(ev.Time), Kind: EventSection, Title: string(ev.Data)})
		return
	case "label":
		key := sockKey{ev.Owner, ev.Host, ev.FD}
		if i, ok := b.open[key]; ok {
			b.m.Lifelines[i].Role = string(ev.Data)
		} else if p, ok := b.pending[key]; ok {
			p.Data = ev.Data
			b.pending[key] = p
		}
		return
	case "open":
		if key := (sockKey{ev.Owner, ev.Host, ev.FD}); !b.isOpen(key) {
			b.pending[key] = ev
		}
		return
	case "recverr":
		b.recverr(ev)
		return
	}
	line := b.socket(ev)
	l := &b.m.Lifelines[line]
	if ev.Local.IsValid() && ev.Local.Port() != 0 {
		l.local = ev.Local
	}
	at := when(ev)
	call, args := ev.Call, ""
	if name, opt, ok := strings.Cut(ev.Call, " "); ok {
		call, args = name, opt
	}
	if (call == "connect" || call == "bind") && ev.Peer.IsValid() {
		args = ev.Peer.String()
	}
	if ev.Unspec {
		args = "AF_UNSPEC"
	}
	e := Event{T: b.t(at), Kind: EventCall, Lifeline: l.ID, Call: call, Args: args, Result: result(ev), Error: ev.Errno != 0 && ev.Errno != unix.EAGAIN, Detail: callDetail(ev)}
	if call == "connect" && ev.Errno == 0 {
		l.peer = ev.Peer
		if ev.Unspec {
			l.peer = netip.AddrPort{}
		}
	}
	l.note(at) // from when the call began: a send binds during the call
	switch {
	case (call == "send" || call == "sendto") && ev.Errno == 0 && ev.Peer.IsValid():
		b.send(line, ev, e)
		return
	case (call == "recv" || call == "recvfrom") && ev.Errno == 0:
		b.receive(line, ev)
		e.Result = payload(ev.Data, ev.Len)
	case call == "close" && ev.Errno == 0:
		l.Closed, l.Until = true, b.t(at)
		delete(b.open, sockKey{ev.Owner, ev.Host, ev.FD})
	}
	if icmp := errnoICMP(ev.Errno); icmp != "" {
		b.inferICMP(line, ev, icmp)
	}
	b.add(e)
}

// send makes the datagram a send (or sendto) sent, drawn from the moment the call began.
func (b *builder) send(line int, ev sock.CallEvent, call Event) {
	l := &b.m.Lifelines[line]
	src := ev.Local
	if !src.IsValid() {
		src = l.local
	}
	s := &sent{from: line, host: l.Host, src: src, dst: ev.Peer, data: ev.Data, n: ev.Len, at: when(ev), target: -1, icmp: -1, links: map[string]netip.AddrPort{}}
	e := call
	e.Kind, e.From, e.Dest = EventDatagram, l.ID, ev.Peer.String()
	e.Data, e.Bytes = Quote(string(ev.Data), 64), intp(ev.Len)
	e.Result = strconv.Itoa(ev.Result)
	s.ev = b.add(e)
	if !isGroup(ev.Peer.Addr()) {
		s.target, s.fate = b.deliveryAt(s, ev)
	}
	b.sents = append(b.sents, s)
	b.lastSent[line] = s
}

// deliveryAt is where a datagram to s.dst goes, as the kernel decides with the sockets open now,
// and its fate when that is certain: on this machine, the socket that takes it (delivered), or
// none (refused: a socket on the port connected to another peer, or none at all); in a lab, the
// socket that holds the address, the fate left to what the run sees next.
func (b *builder) deliveryAt(s *sent, ev sock.CallEvent) (int, string) {
	host := b.hostName(s.dst.Addr())
	var waking []sockKey
	for key, p := range b.pending {
		if key.host == host && p.Local.Port() == s.dst.Port() {
			waking = append(waking, key)
		}
	}
	sort.Slice(waking, func(i, j int) bool {
		a, c := waking[i], waking[j]
		return a.owner < c.owner || a.owner == c.owner && a.fd < c.fd
	})
	for _, key := range waking {
		b.socket(sock.CallEvent{Owner: key.owner, Host: key.host, FD: key.fd, Time: s.at}) // drawn from now: a datagram came to it
	}
	best, bestScore, pinned := -1, 0, -1
	for key, i := range b.open {
		l := &b.m.Lifelines[i]
		if key.host != host || !l.local.IsValid() || l.local.Port() != s.dst.Port() {
			continue
		}
		if !bindTakes(l.local, s.dst) {
			continue
		}
		score := 1
		if l.local.Addr().Unmap() == s.dst.Addr().Unmap() {
			score = 2
		}
		if l.peer.IsValid() {
			if !sameEndpoint(l.peer, s.src) {
				pinned = i // connected to another peer: it will not take it
				continue
			}
			score += 2
		}
		if score > bestScore || score == bestScore && i < best {
			best, bestScore = i, score
		}
	}
	switch {
	case best >= 0 && host == "":
		return best, FateDelivered
	case best >= 0:
		return best, ""
	case pinned >= 0 && host == "":
		return pinned, FateRefused
	case pinned >= 0:
		return pinned, ""
	case host == "" && s.dst.Addr().IsLoopback():
		return b.nobodyAt(s.dst, "no socket", s.at), FateRefused
	}
	return -1, "" // no traced socket: settled at the end (a receive may show where it went)
}

// sameEndpoint says a socket's peer is the address a datagram came from (a wildcard source
// matches by port).
func sameEndpoint(peer, src netip.AddrPort) bool {
	return peer.Port() == src.Port() && (peer.Addr().Unmap() == src.Addr().Unmap() || src.Addr().IsUnspecified())
}

// receive finds the datagram a receive on line returned, and marks it delivered there: the
// oldest of the same data not delivered yet that the socket could have queued (see mayHave); one
// from a program udplab does not trace is drawn now, from where it came.
func (b *builder) receive(line int, ev sock.CallEvent) {
	l := &b.m.Lifelines[line]
	var best *sent
	bestFit := 0
	for _, s := range b.sents {
		// what a receive returns is the datagram's start, all of it unless the buffer was shorter
		common := min(len(s.data), len(ev.Data))
		if ev.Len > s.n || !bytes.Equal(s.data[:common], ev.Data[:common]) || s.at.After(ev.Time) || contains(s.received, line) {
			continue
		}
		if !isGroup(s.dst.Addr()) && (len(s.received) > 0 || b.refusedOnWire(s)) {
			continue // delivered already, or an ICMP error captured says it was not
		}
		// recvfrom names the sender (recv, a connected socket's peer: mayHave holds that)
		if ev.Call == "recvfrom" && ev.Peer.IsValid() && !sameEndpoint(ev.Peer, b.source(s)) && !b.isRouter(b.hostName(ev.Peer.Addr())) {
			if _, natted := b.translated(s, ev.Peer); !natted {
				continue
			}
		}
		if fit := b.mayHave(l, s, ev.Time); fit > bestFit {
			best, bestFit = s, fit
			if fit == fitArrived {
				break
			}
		}
	}
	if best == nil {
		if !ev.Peer.IsValid() {
			return
		}
		from := b.nobodyAt(ev.Peer, "not traced", ev.Time)
		s := &sent{from: from, host: b.hostName(ev.Peer.Addr()), src: ev.Peer, dst: l.local, data: ev.Data, n: ev.Len, at: ev.Time,
			target: line, icmp: -1, links: map[string]netip.AddrPort{}}
		s.ev = b.add(Event{T: b.t(ev.Time), Kind: EventDatagram, From: b.id(from), Data: Quote(string(ev.Data), 64), Bytes: intp(ev.Len), Dest: l.local.String(),
			Detail: "received from " + ev.Peer.String() + ", which udplab does not trace"})
		b.sents = append(b.sents, s)
		best = s
	}
	if ev.Flags&unix.MSG_PEEK != 0 {
		if !contains(best.peeked, line) {
			best.peeked = append(best.peeked, line)
		}
	} else {
		best.received = append(best.received, line)
	}
	best.fate = FateDelivered
	if ev.Peer.IsValid() && !sameEndpoint(ev.Peer, best.src) {
		if r := b.hostName(ev.Peer.Addr()); b.isRouter(r) {
			b.hop(best, r, "source "+ev.Peer.String())
		}
	}
}

// How well a datagram fits a socket that received the same data (mayHave).
const (
	fitNone    = iota
	fitLater   // the socket got the datagram's address only after it was sent
	fitArrived // the socket had its address when it arrived
)

// mayHave says whether socket l could have queued datagram s, which a receive that ended at
// until returned the data of: fitArrived when l, as it was when s arrived (when it was last
// captured, else when its send began), had the address s was sent to and, connected, s's sender
// as its peer; fitLater when l only got such an address after that, and nothing captured tells
// when s arrived (a link's delay may have kept it on the way until then); else fitNone.
func (b *builder) mayHave(l *Lifeline, s *sent, until time.Time) int {
	arrived := s.at
	if s.seen.After(arrived) {
		arrived = s.seen
	}
	now := -1
	for i, st := range l.states {
		if !st.at.After(arrived) {
			now = i
		}
	}
	if now >= 0 && b.takes(l.Host, l.states[now], s) {
		return fitArrived
	}
	if b.m.FromWire {
		return fitNone
	}
	for _, st := range l.states[now+1:] {
		if !st.at.After(until) && b.takes(l.Host, st, s) {
			return fitLater
		}
	}
	return fitNone
}

// takes says whether a socket of host with local address and peer st would take datagram s: one
// to its address, or to a group on its port, or (an address a NAT translated, as captured, or
// as no capture shows) to its router; connected, one from its peer.
func (b *builder) takes(host string, st sockState, s *sent) bool {
	if !st.local.IsValid() || st.local.Port() == 0 {
		return false
	}
	if st.peer.IsValid() && !b.fromPeer(s, st.peer) {
		return false
	}
	if isGroup(s.dst.Addr()) {
		return bindTakes(st.local, s.dst)
	}
	for _, dst := range append([]netip.AddrPort{s.dst}, slices.Collect(maps.Values(s.dsts))...) {
		if b.hostName(dst.Addr()) == host && bindTakes(st.local, dst) {
			return true
		}
	}
	// sent to a router's address, which its NAT translated where no capture shows to what: any
	// address of the family, on another host
	if r := b.hostName(s.dst.Addr()); !b.isRouter(r) || r == host {
		return false
	}
	for _, dst := range s.dsts {
		if dst != s.dst {
			return false // a capture shows where it went, and it is not here
		}
	}
	return st.local.Addr().Unmap().Is4() == s.dst.Addr().Unmap().Is4() || addrTakes(st.local.Addr(), s.dst.Addr())
}

// fromPeer says datagram s came from peer: its source, as sent, as a NAT translated it where it
// was captured, or a router's address where no capture shows the translation.
func (b *builder) fromPeer(s *sent, peer netip.AddrPort) bool {
	if sameEndpoint(peer, b.source(s)) {
		return true
	}
	if _, ok := b.translated(s, peer); ok {
		return true
	}
	for _, src := range s.links {
		if src != s.src {
			return false
		}
	}
	return b.isRouter(b.hostName(peer.Addr()))
}

// source is the address s came from: its sender's local address, or, when that is a wildcard,
// the address it was captured with on its sender's LAN.
func (b *builder) source(s *sent) netip.AddrPort {
	if !s.src.Addr().IsUnspecified() {
		return s.src
	}
	for _, link := range slices.Sorted(maps.Keys(s.links)) {
		if src := s.links[link]; src.Port() == s.src.Port() && b.hostName(src.Addr()) == s.host {
			return src
		}
	}
	return s.src
}

// bindTakes says a socket bound to local takes a datagram to dst: the same port, and the same
// address or a wildcard of its family (IPv6's takes IPv4 too, unless IPV6_V6ONLY).
func bindTakes(local, dst netip.AddrPort) bool {
	return local.Port() == dst.Port() && addrTakes(local.Addr(), dst.Addr())
}

// addrTakes says a socket bound to address local takes a datagram to address dst.
func addrTakes(local, dst netip.Addr) bool {
	l, d := local.Unmap(), dst.Unmap()
	switch {
	case l == d:
		return true
	case !l.IsUnspecified():
		return false
	case l.Is4():
		return d.Is4()
	}
	return true
}

// refusedOnWire says an ICMP error the wire view captured is about s: it was not delivered.
func (b *builder) refusedOnWire(s *sent) bool {
	return s.icmp >= 0 && !b.m.Events[s.icmp].Inferred
}

func (b *builder) isRouter(host string) bool {
	h := b.hosts[host]
	return h != nil && h.Router
}

// translated says whether a datagram s seen as coming from peer was translated on the way (it
// was captured with that source on a link).
func (b *builder) translated(s *sent, peer netip.AddrPort) (string, bool) {
	for link, src := range s.links {
		if src == peer {
			return link, true
		}
	}
	return "", false
}

// hop adds router host to the routers s crossed, with what it changed.
func (b *builder) hop(s *sent, host, change string) {
	id := b.id(b.hostLifeline(host, s.at))
	e := &b.m.Events[s.ev]
	for i := range e.Via {
		if e.Via[i].Lifeline == id {
			if e.Via[i].Addr == "" {
				e.Via[i].Addr = change
			}
			return
		}
	}
	e.Via = append(e.Via, Hop{Lifeline: id, Addr: change})
}

// inferICMP draws the ICMP error behind a call's error on line, not captured: from the host
// whose kernel sent it when that is known (this machine, for a datagram to one of its own
// addresses), else from nowhere, at the socket, until the error queue tells (recverr).
func (b *builder) inferICMP(line int, ev sock.CallEvent, name string) {
	if b.m.FromWire {
		if s := b.lastSent[line]; s != nil && s.icmp >= 0 {
			return // captured
		}
	}
	e := Event{T: b.t(ev.Time) - 1e-6, Kind: EventICMP, To: []string{b.id(line)}, ICMP: name, Inferred: true,
		Detail: "known from " + unix.ErrnoName(ev.Errno) + " (" + strconv.Itoa(int(ev.Errno)) + "), which " + ev.Call + " returned"}
	s := b.lastSent[line]
	if s != nil && b.hostName(s.dst.Addr()) == "" && s.dst.Addr().IsLoopback() {
		e.From = b.id(b.hostLifeline("", s.at))
	}
	if ev.Errno == unix.ECONNREFUSED {
		// only a port unreachable gives it: ICMP 3/3, ICMPv6 1/4
		v6 := s != nil && s.dst.Addr().Is6() && !s.dst.Addr().Is4In6()
		typ, code := byte(3), byte(3)
		if v6 {
			typ, code = 1, 4
		}
		e.Type, e.Code, e.ICMP = intp(int(typ)), intp(int(code)), sock.ICMPName(v6, typ, code)
	}
	i := b.add(e)
	b.pendingICMP[line] = i
	if s != nil && s.fate != FateDelivered {
		s.icmp = i
		if ev.Errno == unix.ECONNREFUSED {
			s.fate = FateRefused
			b.noSocket(s)
		}
		// EHOSTUNREACH, ENETUNREACH: a router, a firewall, or ARP on the way; which, and where,
		// only the error queue or the wire tells
	}
}

// stop places datagram s where the ICMP error about it from host's kernel (captured, or named by
// the error queue) says it stopped: at that host when it is not the one s was sent to (a router
// on the way, or the sender's own kernel when ARP or NDP failed); at its destination's address
// when a port unreachable says no socket took it; else at its destination's kernel (a firewall's
// prohibition). Never at a socket that would have taken it. From an address no lab host holds,
// the place is not known: s stays where it was going, its fate unknown unless the error tells.
func (b *builder) stop(s *sent, host string, from netip.Addr, v6 bool, typ, code byte) {
	dst := b.hostName(s.dst.Addr())
	portUnreachable := !v6 && typ == 3 && code == 3 || v6 && typ == 1 && code == 4
	switch {
	case portUnreachable:
		s.fate = FateRefused
		b.noSocket(s)
	case host == "" && dst != "" && !from.IsLoopback():
	case host != dst:
		s.fate, s.target, s.onTheWay = icmpFate(v6, typ, code), b.hostLifeline(host, s.at), true
	default:
		s.fate, s.target = icmpFate(v6, typ, code), b.hostLifeline(host, s.at)
	}
}

// noSocket places a datagram refused for want of a socket (a port unreachable): at the socket on
// its address connected to another peer, which would not take it, else at its address.
func (b *builder) noSocket(s *sent) {
	if s.target >= 0 {
		if l := &b.m.Lifelines[s.target]; l.Kind == KindSocket && l.peer.IsValid() && !sameEndpoint(l.peer, b.source(s)) || l.Kind == KindNobody {
			return
		}
	}
	s.target = b.nobodyAt(s.dst, "no socket", s.at)
}

// recverr completes the inferred ICMP error of a socket with what its error queue says: its
// type and code, and the host that sent it (the offender).
func (b *builder) recverr(ev sock.CallEvent) {
	line, ok := b.open[sockKey{ev.Owner, ev.Host, ev.FD}]
	if !ok {
		return
	}
	i, pending := b.pendingICMP[line]
	if !pending {
		if b.m.FromWire {
			return
		}
		i = b.add(Event{T: b.t(ev.Time), Kind: EventICMP, To: []string{b.id(line)}, Inferred: true})
	}
	delete(b.pendingICMP, line)
	e := &b.m.Events[i]
	e.Type, e.Code, e.ICMP = intp(ev.Type), intp(ev.Code), ev.ICMP
	e.Detail = "read from the error queue (recverr): " + ev.ICMP
	if ev.Offender.IsValid() {
		e.From = b.id(b.hostLifeline(b.hostName(ev.Offender), ev.Time))
		e.Detail += " from " + ev.Offender.String()
	}
	if s := b.lastSent[line]; s != nil && s.fate != FateDelivered {
		s.icmp = i
		v6 := ev.Offender.Is6() && !ev.Offender.Is4In6()
		if ev.Offender.IsValid() {
			b.stop(s, b.hostName(ev.Offender), ev.Offender, v6, byte(ev.Type), byte(ev.Code))
		} else {
			s.fate = icmpFate(v6, byte(ev.Type), byte(ev.Code))
		}
	}
}

// packet places a packet the wire view captured: a datagram is matched to its send (a second
// sighting on another link is the same datagram, across a router), or drawn from where it came
// when no traced socket sent it; an ICMP error is drawn from the host that sent it to the socket
// it is about.
func (b *builder) packet(ev sock.CallEvent) {
	if ev.ICMP != "" {
		b.icmpPacket(ev)
		return
	}
	s := b.matchPacket(ev)
	if s == nil {
		from := b.nobodyAt(ev.Local, "not traced", ev.Time)
		s = &sent{from: from, host: b.hostName(ev.Local.Addr()), src: ev.Local, dst: ev.Peer, data: ev.Data, n: ev.Len, at: ev.Time,
			ipid: ev.IPID, target: -1, icmp: -1, links: map[string]netip.AddrPort{}}
		s.ev = b.add(Event{T: b.t(ev.Time), Kind: EventDatagram, From: b.id(from), Data: Quote(string(ev.Data), 64), Bytes: intp(ev.Len), Dest: ev.Peer.String(),
			Detail: "captured on " + ev.Link + ": " + ev.Local.String() + " > " + ev.Peer.String() + ", from a program udplab does not trace"})
		if !isGroup(ev.Peer.Addr()) {
			s.target, s.fate = b.deliveryAt(s, ev)
		}
		b.sents = append(b.sents, s)
	}
	if s.ipid == 0 {
		s.ipid = ev.IPID
	}
	for link, src := range s.links {
		if link != ev.Link {
			// seen before on another link: it crossed a router, the one on both
			if r := b.routerBetween(link, ev.Link); r != "" {
				change := ""
				switch {
				case src != ev.Local:
					change = "source " + ev.Local.String()
				case s.dsts[link] != ev.Peer:
					change = "destination " + ev.Peer.String()
				}
				b.hop(s, r, change)
			}
		}
	}
	s.links[ev.Link] = ev.Local
	if ev.Time.After(s.seen) {
		s.seen = ev.Time
	}
	if s.dsts == nil {
		s.dsts = map[string]netip.AddrPort{}
	}
	s.dsts[ev.Link] = ev.Peer
	b.m.Events[s.ev].Detail += "; captured on " + ev.Link + ": " + ev.Local.String() + " > " + ev.Peer.String()
}

// matchPacket finds the datagram a captured packet is: one sent, not yet seen on this link, with
// the same data and length, from the packet's source (or, on a second link, with the same IP
// identification).
func (b *builder) matchPacket(ev sock.CallEvent) *sent {
	for pass := 0; pass < 2; pass++ {
		for i := len(b.sents) - 1; i >= 0; i-- {
			s := b.sents[i]
			if _, seen := s.links[ev.Link]; seen || s.n != ev.Len || !bytes.Equal(s.data, ev.Data) || ev.Time.Sub(s.at) > 5*time.Second || s.at.After(ev.Time.Add(time.Millisecond)) {
				continue
			}
			switch pass {
			case 0: // its own source and destination
				if sameEndpoint(ev.Local, s.src) && (ev.Peer == s.dst || isGroup(s.dst.Addr())) {
					return s
				}
				if len(s.links) == 0 && s.src.Port() == ev.Local.Port() && s.dst == ev.Peer {
					return s
				}
			case 1: // the same datagram on another link
				if len(s.links) > 0 && (s.ipid != 0 && s.ipid == ev.IPID || ev.IPID == 0) {
					return s
				}
			}
		}
	}
	return nil
}

// routerBetween is the router between links x and y: the router on both LANs.
func (b *builder) routerBetween(x, y string) string {
	for _, name := range b.hostOrder {
		h := b.hosts[name]
		if h.Router && slices.Contains(h.LANs, x) && slices.Contains(h.LANs, y) {
			return name
		}
	}
	return ""
}

// icmpPacket places a captured ICMP error: from the host whose address sent it, to the socket
// whose datagram it is about. The same error captured again on another link (on its way back
// across a router, a NAT translating the datagram it quotes) is the same error.
func (b *builder) icmpPacket(ev sock.CallEvent) {
	s := b.aboutSent(ev)
	if s != nil && s.icmp >= 0 && !b.m.Events[s.icmp].Inferred {
		if first := b.icmpLink[s.icmp]; first != ev.Link {
			if r := b.routerBetween(first, ev.Link); r != "" {
				e := &b.m.Events[s.icmp]
				id := b.id(b.hostLifeline(r, ev.Time))
				if len(e.Via) == 0 || e.Via[len(e.Via)-1].Lifeline != id {
					change := ""
					if ev.About != s.src && !sameEndpoint(ev.About, s.src) {
						change = "about " + ev.About.String()
					}
					e.Via = append(e.Via, Hop{Lifeline: id, Addr: change})
				}
			}
			b.m.Events[s.icmp].Detail += "; captured again on " + ev.Link
			return
		}
	}
	from := b.hostLifeline(b.hostName(ev.Local.Addr()), ev.Time)
	to := -1
	if s != nil {
		to = s.from
	} else {
		to = b.nobodyAt(ev.About, "not traced", ev.Time)
	}
	v6 := ev.Local.Addr().Is6() && !ev.Local.Addr().Is4In6()
	e := Event{T: b.t(ev.Time), Kind: EventICMP, From: b.id(from), To: []string{b.id(to)}, Type: intp(ev.Type), Code: intp(ev.Code), ICMP: ev.ICMP,
		Detail: fmt.Sprintf("captured on %s: %s from %s about %s > %s", ev.Link, ev.ICMP, ev.Local.Addr(), ev.About, ev.AboutTo)}
	i := b.add(e)
	b.icmpLink[i] = ev.Link
	if s != nil {
		s.icmp = i
		if s.fate != FateDelivered {
			b.stop(s, b.hostName(ev.Local.Addr()), ev.Local.Addr(), v6, byte(ev.Type), byte(ev.Code))
		}
		if b.lastSent[s.from] == s {
			delete(b.pendingICMP, s.from)
		}
	}
}

// aboutSent is the datagram an ICMP error quotes: the latest sent before it, from the quoted
// source (as its sender had it, or as it was captured on a link: after a NAT) to the quoted
// destination.
func (b *builder) aboutSent(ev sock.CallEvent) *sent {
	for i := len(b.sents) - 1; i >= 0; i-- {
		c := b.sents[i]
		if c.at.After(ev.Time) || c.dst != ev.AboutTo {
			continue
		}
		if sameEndpoint(ev.About, c.src) {
			return c
		}
		for _, src := range c.links {
			if src == ev.About {
				return c
			}
		}
	}
	return nil
}

// icmpFate is what an ICMP error says of the datagram it is about.
func icmpFate(v6 bool, typ, code byte) string {
	switch {
	case !v6 && typ == 3 && (code == 3 || code == 9 || code == 10 || code == 13), v6 && typ == 1 && (code == 1 || code == 4):
		return FateRefused
	default:
		return FateDropped // host or net unreachable, time exceeded: lost on the way
	}
}

// errnoICMP names the ICMP error behind an error a call returned on a UDP socket.
func errnoICMP(e unix.Errno) string {
	switch e {
	case unix.ECONNREFUSED:
		return "ICMP port unreachable"
	case unix.EHOSTUNREACH:
		return "ICMP host unreachable or prohibited"
	case unix.ENETUNREACH:
		return "ICMP network unreachable"
	}
	return ""
}

// finish settles each datagram's receivers and fate, and each lifeline's end and label.
func (b *builder) finish() {
	end := 0.0
	if n := len(b.m.Events); n > 0 {
		end = b.m.Events[n-1].T
	}
	for _, e := range b.m.Events {
		end = max(end, e.T)
	}
	for _, s := range b.sents {
		e := &b.m.Events[s.ev]
		switch {
		case len(s.received) > 0 || len(s.peeked) > 0:
			e.Fate = FateDelivered
			for _, r := range s.received {
				e.To = append(e.To, b.id(r))
			}
			for _, r := range s.peeked {
				if !contains(s.received, r) {
					e.To = append(e.To, b.id(r))
				}
			}
		default:
			e.Fate = s.fate
			if e.Fate == "" {
				e.Fate = FateUnknown
				if at := b.lostOnWire(s); at >= 0 {
					e.Fate, s.target, s.onTheWay = FateDropped, at, true
				}
			}
			switch {
			case s.target >= 0:
				e.To = []string{b.id(s.target)}
			case isGroup(s.dst.Addr()):
				e.To = []string{b.id(b.nobodyIn(s.host, s.dst, groupKind(s.dst.Addr()), s.at))}
			default:
				e.To = []string{b.id(b.nobodyAt(s.dst, "no socket", s.at))}
			}
		}
		if !isGroup(s.dst.Addr()) && len(e.Via) == 0 && !s.onTheWay {
			b.routeVia(s)
		}
	}
	for i := range b.m.Lifelines {
		l := &b.m.Lifelines[i]
		if !l.Closed {
			l.Until = end
		}
		switch l.Kind {
		case KindSocket:
			l.Addr = ""
			if l.local.IsValid() {
				l.Addr = l.local.String()
			}
			l.Label = socketLabel(l)
		case KindNobody:
			if isGroup(l.local.Addr()) {
				l.Label = l.local.String() + " (" + groupKind(l.local.Addr()) + ")"
			}
		}
	}
	// the events in time order; a datagram before the calls that followed its send
	sort.SliceStable(b.m.Events, func(i, j int) bool { return b.m.Events[i].T < b.m.Events[j].T })
	// lifelines that only ever held nothing: none. Order: as they appeared.
	sort.SliceStable(b.m.Lifelines, func(i, j int) bool { return b.m.Lifelines[i].seq < b.m.Lifelines[j].seq })
	for i := range b.m.Lifelines {
		l := &b.m.Lifelines[i]
		if l.Kind == KindHost || l.Kind == KindRouter {
			l.From = 0 // a host's kernel was there all along
		}
		if l.Kind == KindNobody || l.Kind == KindHost || l.Kind == KindRouter {
			l.Until = end
		}
	}
}

// lostOnWire is where the wire view shows that a datagram to another lab host stopped, or -1:
// at its sender's kernel when no LAN saw it (sent while the capture was on), at the router it had
// to cross when it was seen on the way but never on a LAN of its destination.
func (b *builder) lostOnWire(s *sent) int {
	dst := b.hosts[b.hostName(s.dst.Addr())]
	if !b.m.FromWire || dst == nil || dst.Name == s.host || isGroup(s.dst.Addr()) {
		return -1
	}
	if len(s.links) == 0 {
		if s.at.Before(b.firstCapture) {
			return -1
		}
		return b.hostLifeline(s.host, s.at)
	}
	links := slices.Sorted(maps.Keys(s.links))
	for _, link := range links {
		if slices.Contains(dst.LANs, link) {
			return -1
		}
	}
	for _, link := range links {
		for _, lan := range dst.LANs {
			if r := b.routerBetween(link, lan); r != "" {
				return b.hostLifeline(r, s.at)
			}
		}
	}
	return -1
}

// routeVia adds the router a datagram crossed between two lab hosts on different LANs (one that
// is not the other's neighbour): the routers known, with a NAT's translation when its receiver
// saw another source.
func (b *builder) routeVia(s *sent) {
	src, dst := s.host, b.hostName(s.dst.Addr())
	if src == "" || dst == "" || src == dst {
		return
	}
	if b.isRouter(dst) && len(s.received) > 0 {
		// sent to a router's address, received elsewhere: the router translated it back
		if r := b.m.Lifelines[s.received[0]].Host; r != dst {
			b.hop(s, dst, "destination "+b.m.Lifelines[s.received[0]].local.String())
		}
		return
	}
	if b.sameLAN(src, dst) {
		return
	}
	for _, name := range b.hostOrder {
		h := b.hosts[name]
		if !h.Router {
			continue
		}
		for _, l := range b.hosts[src].LANs {
			for _, m := range b.hosts[dst].LANs {
				if slices.Contains(h.LANs, l) && slices.Contains(h.LANs, m) {
					b.hop(s, name, "")
					return
				}
			}
		}
	}
}

// sameLAN says two lab hosts share a LAN.
func (b *builder) sameLAN(x, y string) bool {
	hx, hy := b.hosts[x], b.hosts[y]
	if hx == nil || hy == nil {
		return true
	}
	for _, l := range hx.LANs {
		if slices.Contains(hy.LANs, l) {
			return true
		}
	}
	return false
}

func groupKind(a netip.Addr) string {
	if a.IsMulticast() {
		return "multicast"
	}
	return "broadcast"
}

func contains(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
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

func result(ev sock.CallEvent) string {
	if ev.Errno != 0 {
		return unix.ErrnoName(ev.Errno) + " (" + strconv.Itoa(int(ev.Errno)) + ")"
	}
	return strconv.Itoa(ev.Result)
}

// callDetail is the whole call, for hovering.
func callDetail(ev sock.CallEvent) string {
	s := fmt.Sprintf("%s  fd %d", ev.Call, ev.FD)
	if ev.Owner != "" {
		s += " of " + ev.Owner
	}
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
		s += fmt.Sprintf(", %s %s", bytesText(ev.Len), Quote(string(ev.Data), 64))
	}
	return s + " → " + result(ev) + "  at " + ev.Time.Format("15:04:05.000000")
}

// payload is a datagram's text: its data quoted and cut, and its length.
func payload(data []byte, n int) string {
	return fmt.Sprintf("%s (%s)", Quote(string(data), 12), bytesText(n))
}

// bytesText is "1 byte", "2 bytes".
func bytesText(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.Itoa(n) + " bytes"
}

// socketLabel names a socket's lifeline: its role, its address, its descriptor, and whose it is.
func socketLabel(l *Lifeline) string {
	addr := "unbound"
	if l.local.IsValid() {
		addr = l.local.String()
	}
	label := fmt.Sprintf("%s (fd %d)", addr, l.FD)
	if l.Role != "" {
		label = l.Role + " " + addr
	}
	if l.Owner != "" {
		label = "[" + l.Owner + "] " + label
	}
	return label
}
