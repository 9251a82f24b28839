package luabind

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/lab"
)

// Help for the lab's values: help(net) lists a network's hosts and what each can do, help(net.a)
// one host. The methods' help is here, beside network's own (lab.go); a test holds it to the
// methods the hosts and networks have.

// hostMethodHelp is the help of a host's methods, "net.a" standing for the host.
var hostMethodHelp = []helpEntry{
	{"net.a:socket(family, type[, protocol])", "a socket inside host a; every call works on it",
		"a socket; on failure nil, message, errno",
		"EAFNOSUPPORT (97)  the family is not supported\nEMFILE (24)  too many open files\nEBADF (9)  the network is closed"},
	{"net.a:down()", "unplug host a from its LANs: ARP and NDP get no answer", "0; on failure nil, message, errno",
		"EBADF (9)  the network is closed"},
	{"net.a:up()", "plug host a back into its LANs", "0; on failure nil, message, errno", "EBADF (9)  the network is closed"},
	{"net.a:firewall(mode)", `"drop": host a drops the UDP that comes to it, or that it forwards (a router); "reject": it answers ICMP administratively prohibited (3/13); nil: no firewall`,
		"0; on failure nil, message, errno", "EBADF (9)  the network is closed"},
	{`net.a:impair{loss=0.2, delay=0.05, rate="1mbit"}`, "host a's link loses that share of UDP datagrams each way (send still succeeds: the link loses them, not a's kernel); delay and rate of what a sends; impair() undoes it",
		"0; on failure nil, message, errno", "EBADF (9)  the network is closed"},
	{"net.a:nat(lan)", "router a masquerades what leaves it on LAN lan (it blocks nothing coming in); nat() undoes it",
		"0; on failure nil, message, errno", "EBADF (9)  the network is closed"},
	execHelp,
	spawnHelp,
}

// labErrnos say what a student meets each errno for on a lab's host, as the lab builds it: a host
// on one LAN has a default route (through the LAN's router, or a gateway address nobody holds),
// a router has none. Each is checked by TestLabErrnosAsHelpSays.
var labErrnos = map[string]string{
	"EACCES":        "a send or connect to the LAN's broadcast address (10.0.0.255) or 255.255.255.255 without SO_BROADCAST",
	"EAGAIN":        `a receive waited its timeout and nothing came: the link lost the datagram (impair), a firewall("drop") took it, or its host is down and IP_RECVERR is off`,
	"ECONNREFUSED":  "the other host answered ICMP port unreachable (3/3): nothing is bound to that port there, or the socket there is connected to another peer (a pinned server; a NAT's second client)",
	"EHOSTUNREACH":  `the other host's firewall("reject") answered administratively prohibited (3/13); or, with IP_RECVERR, the host is down: ARP got no answer, and the sender's own kernel said so after about 3 s`,
	"ENETUNREACH":   "a router (a host on two LANs) has no default route: a send or connect to an address on none of its LANs, or IPv4 multicast without IP_MULTICAST_IF (set it to the router's address on the LAN meant); with IP_RECVERR, a host whose datagram a router could not forward (ICMP net unreachable, 3/0, from the router). A host on one LAN has a default route: its multicast leaves without IP_MULTICAST_IF",
	"EADDRNOTAVAIL": "a bind to an address the host does not have, such as another host's: each binds its own (net.a.addr) or the wildcard",
	"EPERM":         "network{} where udplab may not make namespaces: run it as root, or allow user namespaces",
	"EBADF":         "a host's method after net:close() (its sockets keep working until closed)",
}

// networkMethodHelp is the help of a network's methods.
var networkMethodHelp = []helpEntry{
	{"net:close()", "take the network down (also done at exit, whatever the exit)", "0", ""},
}

// methodName is the name a method's synopsis gives: "socket" for "net.a:socket(...)".
func methodName(synopsis string) string {
	_, rest, _ := strings.Cut(synopsis, ":")
	if i := strings.IndexAny(rest, "({"); i >= 0 {
		return rest[:i]
	}
	return rest
}

// labHelp describes a network or one of its hosts.
func (rt *Runtime) labHelp(t *lua.LTable) (string, bool) {
	if n, ok := rt.networks[t]; ok {
		var b strings.Builder
		names := make([]string, len(n.Spec.Hosts))
		for i, h := range n.Spec.Hosts {
			names[i] = h.Name
		}
		b.WriteString("network(" + strings.Join(names, ", ") + "): net.NAME is a host (help(net.a) for one)\n")
		for i := range n.Spec.Hosts {
			h := &n.Spec.Hosts[i]
			b.WriteString("  " + padRight("net."+h.Name, 12) + hostAddresses(n.Spec, h) + "\n")
		}
		b.WriteString("methods of a host, and of the network:\n")
		for _, e := range append(hostMethodHelp[:len(hostMethodHelp):len(hostMethodHelp)], networkMethodHelp...) {
			b.WriteString("  " + e.synopsis + "\n      " + e.summary + "\n")
		}
		return b.String(), true
	}
	h, ok := rt.hosts[t]
	if !ok {
		return "", false
	}
	var b strings.Builder
	for i := range h.net.Spec.Hosts {
		if spec := &h.net.Spec.Hosts[i]; spec.Name == h.name {
			b.WriteString("host " + h.name + ": " + hostAddresses(h.net.Spec, spec) + "\n")
		}
	}
	b.WriteString("  fields: name, addr, addr6, addrs[lan], addrs6[lan]\nmethods:\n")
	for _, e := range hostMethodHelp {
		e.synopsis = strings.Replace(e.synopsis, "net.a:", "net."+h.name+":", 1)
		e.summary = strings.Replace(strings.Replace(e.summary, "host a ", "host "+h.name+" ", 1), "router a ", "router "+h.name+" ", 1)
		b.WriteString("  " + e.synopsis + "\n      " + e.summary + "\n")
		if e.errors != "" {
			b.WriteString(errnoColumns(e.errors, "      "))
		}
	}
	return b.String(), true
}

// hostAddresses is a host's addresses: "10.0.0.1, fd00::1", with their LAN's name when there are
// several.
func hostAddresses(spec *lab.Spec, h *lab.Host) string {
	var parts []string
	for k, lan := range h.LANs {
		p := h.Addr4[k].String() + ", " + h.Addr6[k].String()
		if len(spec.LANs) > 1 {
			p += " on " + spec.LANs[lan].Name
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
