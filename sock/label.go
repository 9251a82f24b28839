//go:build linux

package sock

import (
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A socket's name: label(s, "server") in a script. It names the socket's lifeline in the picture
// (a "label" CallEvent), its descriptor in the trace lines, as strace -y names a descriptor by
// what it is ("sendto(3<server>, ...)"), and its address in the wire view ("127.0.0.1:43211
// (server)"): on loopback, ephemeral ports tell a reader nothing.

// Label names c: label(s, "server"); "" takes the name away.
func (c *Conn) Label(name string) {
	if name == "" {
		c.label.Store(nil)
	} else {
		c.label.Store(&name)
	}
	if t := c.tracer; t != nil {
		if name != "" {
			t.labelled.Store(true)
		}
		t.names.stale.Store(true)
	}
	c.tracer.record(CallEvent{FD: c.fd, Host: c.host, Call: "label", Data: []byte(name)})
}

// Name returns the name Label gave c, or "".
func (c *Conn) Name() string {
	if name := c.label.Load(); name != nil {
		return *name
	}
	return ""
}

// fdText is c's descriptor as a trace line shows it: "3", or "3<server>" when c has a name.
func (c *Conn) fdText() string {
	if name := c.label.Load(); name != nil {
		return strconv.Itoa(c.fd) + "<" + *name + ">"
	}
	return strconv.Itoa(c.fd)
}

// names is the Tracer's table of its named Conns' local addresses, by host: made again when a Conn
// was named or a named one closed, and, when a named Conn had no port yet, on a miss at most
// every portsRefresh (its send may have just given it one). A frame costs the wire view a map
// lookup, not a getsockname(2) per named Conn.
type names struct {
	mu      sync.Mutex
	byAddr  map[nameKey]string
	at      time.Time
	unbound bool        // a named Conn had no port when byAddr was made
	stale   atomic.Bool // a Conn was named, or a named one closed, since
}

// nameKey is a local address in a host ("" for this machine).
type nameKey struct {
	host string
	addr netip.AddrPort
}

// socketName returns the name of t's named Conn in host ("": this machine) whose local address
// is a (the same address, or the wildcard, and the same port), or "". It looks only when some
// Conn was named: the wire view of a script that names none pays nothing.
func (t *Tracer) socketName(host string, a netip.AddrPort) string {
	if t == nil || !t.labelled.Load() {
		return ""
	}
	n := &t.names
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.byAddr == nil || n.stale.Load() {
		t.makeNames()
	}
	name, ok := n.lookup(host, a)
	if !ok && n.unbound && time.Since(n.at) >= portsRefresh {
		t.makeNames()
		name, _ = n.lookup(host, a)
	}
	return name
}

// lookup finds the name at a in host, or at the wildcard address of a's port; n.mu is held.
func (n *names) lookup(host string, a netip.AddrPort) (string, bool) {
	if name, ok := n.byAddr[nameKey{host, netip.AddrPortFrom(a.Addr().Unmap(), a.Port())}]; ok {
		return name, true
	}
	if name, ok := n.byAddr[nameKey{host, netip.AddrPortFrom(netip.IPv4Unspecified(), a.Port())}]; ok {
		return name, true
	}
	name, ok := n.byAddr[nameKey{host, netip.AddrPortFrom(netip.IPv6Unspecified(), a.Port())}]
	return name, ok
}

// makeNames makes t's table of named Conns; t.names.mu is held.
func (t *Tracer) makeNames() {
	n := &t.names
	n.stale.Store(false)
	t.connsMu.Lock()
	var named []*Conn
	for c := range t.conns {
		if c.label.Load() != nil {
			named = append(named, c)
		}
	}
	t.connsMu.Unlock()
	n.byAddr, n.unbound, n.at = make(map[nameKey]string, len(named)), false, time.Now()
	for _, c := range named {
		local, err := c.LocalAddr()
		if err != nil || local.Port() == 0 {
			n.unbound = true
			continue
		}
		n.byAddr[nameKey{c.host, netip.AddrPortFrom(local.IP().Unmap(), uint16(local.Port()))}] = c.Name()
	}
}
