// Package diagram draws a run as a message-sequence diagram. The calls a run's sockets made and,
// with the wire view, the packets captured (sock.CallEvent) are first made into one model
// (Build): lifelines (sockets, hosts and routers, addresses nobody listened on) and events
// (calls, datagrams with their fate, ICMP errors, sections), each with its time. The views are
// drawn from the model: SVG and an HTML page for a browser, text for a terminal, and JSON for
// tests and other tools. A socket is known by its process, host and descriptor, and an address
// belongs to the host that holds it: a datagram goes where the kernel delivered it, never to a
// socket that merely has the same port elsewhere.
package diagram

import (
	"encoding/json"
	"net/netip"
	"time"
)

// Model is what a picture shows.
type Model struct {
	Lifelines []Lifeline `json:"lifelines"`
	Events    []Event    `json:"events"`
	// FromWire: the datagrams and ICMP errors are the packets the wire view captured; else they
	// are inferred from the calls and the error queue.
	FromWire bool `json:"from_wire"`
	// Dropped is how many calls and packets were recorded past the cap, and are not here.
	Dropped int `json:"dropped"`
	// Start is when the first event happened; each event's T counts from it.
	Start time.Time `json:"start"`
	// Next is the call a run in step mode is paused before, not made yet; nil when none is.
	Next *Next `json:"next,omitempty"`
}

// Next is the call a run in step mode is paused before.
type Next struct {
	// Lifeline is the socket the call is on, when it has a lifeline already.
	Lifeline string `json:"lifeline,omitempty"`
	// Call is the call as the script wrote it: "recv(client, 100)".
	Call string `json:"call"`
}

// OpenSocket returns the id of the lifeline of the socket of owner ("" for the run's own), host
// ("" for this machine) and descriptor fd that is open at the end of m, or "".
func (m *Model) OpenSocket(owner, host string, fd int) string {
	for i := len(m.Lifelines) - 1; i >= 0; i-- {
		l := &m.Lifelines[i]
		if l.Kind == KindSocket && l.Owner == owner && l.Host == host && l.FD == fd && !l.Closed {
			return l.ID
		}
	}
	return ""
}

// The kinds of lifeline.
const (
	KindSocket = "socket" // a socket of the run
	KindHost   = "host"   // a host's kernel (a lab host, or "this machine"): where ICMP errors come from
	KindRouter = "router" // a lab host on two LANs: it forwards, and may translate addresses
	KindNobody = "nobody" // an address no traced socket held: nobody listened, or a program udplab does not trace
)

// Lifeline is one column of the picture: a socket, a host, a router, or an address.
type Lifeline struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Host  string `json:"host"`  // the lab host it is in; "" for this machine
	Addr  string `json:"addr"`  // a socket's local address, an address nobody held, a host's addresses
	Label string `json:"label"` // what the picture writes above it
	// Role is the name the script gave a socket: label(s, "server").
	Role string `json:"role,omitempty"`
	// Owner is the script that made the socket when it was not the run's own: a script bg() or
	// run() started at the console.
	Owner string `json:"owner,omitempty"`
	FD    int    `json:"fd,omitempty"`
	// From and Until are the times (T) it begins and ends; Until is the end of the run for a
	// lifeline that never closed.
	From  float64 `json:"from"`
	Until float64 `json:"until"`
	// Closed: a socket that closed (at Until); its lane may carry another one after.
	Closed bool `json:"closed,omitempty"`

	local netip.AddrPort // a socket's local address; a nobody's address
	peer  netip.AddrPort // the peer a socket is connected to
	seq   int            // the order of first appearance
	// states are a socket's local address and peer over time: a datagram is queued on a socket
	// only if, when it arrived, the socket had the address it was sent to (and, connected, its
	// sender as peer)
	states []sockState
}

// sockState is a socket's local address and peer from a moment on.
type sockState struct {
	at          time.Time
	local, peer netip.AddrPort
}

// note records l's local address and peer as they are from at on, when they changed.
func (l *Lifeline) note(at time.Time) {
	if n := len(l.states); n > 0 && l.states[n-1].local == l.local && l.states[n-1].peer == l.peer {
		return
	}
	l.states = append(l.states, sockState{at, l.local, l.peer})
}

// The kinds of event.
const (
	EventCall     = "call"
	EventDatagram = "datagram"
	EventICMP     = "icmp"
	EventSection  = "section"
)

// The fates of a datagram.
const (
	FateDelivered = "delivered" // a socket received it (or, on this machine, it is in a socket's queue)
	FateRefused   = "refused"   // no socket would take it (an ICMP error came back, or would have), or a firewall or router prohibited it
	FateDropped   = "dropped"   // lost on the way: the link, ARP, a router's TTL, a firewall that drops
	FateUnknown   = "unknown"   // nothing the run saw says what became of it
)

// Event is one thing that happened, at T seconds from the start.
type Event struct {
	T    float64 `json:"t"`
	Kind string  `json:"kind"`
	// A call: its lifeline, the call as the script made it ("send", "recvfrom", "connect"), what
	// it named ("127.0.0.1:43211"), and its result ("2", "ECONNREFUSED (111)").
	Lifeline string `json:"lifeline,omitempty"`
	Call     string `json:"call,omitempty"`
	Args     string `json:"args,omitempty"`
	Result   string `json:"result,omitempty"`
	Error    bool   `json:"error,omitempty"`
	// A datagram or an ICMP error: from a lifeline to others (a datagram to a group has a
	// receiver each); a datagram's data (a Lua string literal of its first 64 bytes) and length,
	// and its fate; the routers it crossed, each with the address it left with (translated by a
	// NAT, or the same).
	From  string   `json:"from,omitempty"`
	To    []string `json:"to,omitempty"`
	Data  string   `json:"data,omitempty"`
	Bytes *int     `json:"bytes,omitempty"`
	Fate  string   `json:"fate,omitempty"`
	Via   []Hop    `json:"via,omitempty"`
	// Dest is where a datagram was sent: the address, as its sender named it.
	Dest string `json:"dest,omitempty"`
	// An ICMP error: its type and code and name; Inferred when it was not captured but known
	// from the error a call returned (and the error queue, when it was read).
	Type     *int   `json:"type,omitempty"`
	Code     *int   `json:"code,omitempty"`
	ICMP     string `json:"icmp,omitempty"`
	Inferred bool   `json:"inferred,omitempty"`
	// A section: its title.
	Title string `json:"title,omitempty"`
	// Detail is the whole call or packet, for hovering.
	Detail string `json:"detail,omitempty"`
}

// Hop is a router a datagram crossed, and the address it left with.
type Hop struct {
	Lifeline string `json:"lifeline"`
	Addr     string `json:"addr"`
}

// JSON returns the model as JSON, indented.
func (m *Model) JSON() []byte {
	b, _ := json.MarshalIndent(m, "", " ")
	return append(b, '\n')
}

// ParseModel reads back a model JSON wrote: the views draw it as they drew the original.
func ParseModel(data []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Host is a lab host, as Build needs to know it: its addresses say which datagrams are its.
type Host struct {
	Name   string
	Addrs  []netip.Addr
	LANs   []string // the names of its LANs, as the wire view's links are named
	Router bool
}

// Env is what Build needs to know besides the events: the labs' hosts.
type Env struct {
	Hosts []Host
	// Dropped is how many events were recorded past the cap.
	Dropped int
}

// lifeline returns the lifeline called id.
func (m *Model) lifeline(id string) *Lifeline {
	for i := range m.Lifelines {
		if m.Lifelines[i].ID == id {
			return &m.Lifelines[i]
		}
	}
	return nil
}

func intp(n int) *int { return &n }
