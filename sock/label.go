//go:build linux

package sock

import (
	"net/netip"
	"strconv"
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
	if t := c.tracer; t != nil && name != "" {
		t.labelled.Store(true)
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

// socketName returns the name of t's named Conn in host ("": this machine) whose local address
// is a (the same address, or the wildcard, and the same port), or "". It looks only when some
// Conn was named: the wire view of a script that names none pays nothing.
func (t *Tracer) socketName(host string, a netip.AddrPort) string {
	if t == nil || !t.labelled.Load() {
		return ""
	}
	t.connsMu.Lock()
	var named []*Conn
	for c := range t.conns {
		if c.host == host && c.label.Load() != nil {
			named = append(named, c)
		}
	}
	t.connsMu.Unlock()
	for _, c := range named {
		local, err := c.LocalAddr()
		if err != nil || local.Port() != int(a.Port()) {
			continue
		}
		if ip := local.IP().Unmap(); ip == a.Addr().Unmap() || ip.IsUnspecified() {
			return c.Name()
		}
	}
	return ""
}
