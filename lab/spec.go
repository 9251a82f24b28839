// Package lab builds small networks of hosts for udplab: each LAN a Linux bridge, each host a
// network namespace joined to its LANs by veth pairs, with IPv4 and IPv6 addresses, routes
// through the hosts on two LANs (routers), and firewalls, NAT and impairments from nftables and
// qdiscs. It needs no root: udplab starts itself again as a helper in a new user and network
// namespace, which builds the lab and hands udplab the sockets it opens inside a host. The helper
// dies with udplab, and the namespaces with it, so nothing is left behind, even after kill -9.
package lab

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
)

// Limits on a lab.
const (
	MaxHosts = 250
	MaxLANs  = 16
)

// LAN is one Ethernet segment: a bridge, with its IPv4 and IPv6 prefixes.
type LAN struct {
	Name    string
	Prefix4 netip.Prefix
	Prefix6 netip.Prefix
	// Gateway4 and Gateway6, on a LAN that no router of the lab joins, are the addresses its
	// hosts' default routes go through, as on a LAN whose router is switched off: no host holds
	// them, so ARP and NDP for them get no answer. They are invalid on a LAN with a router (its
	// hosts route through it) and on one with no address left for them, whose hosts' default
	// routes go out through their link (DefaultOnLink): ARP and NDP then ask for the destination
	// itself, and get no answer either.
	Gateway4      netip.Addr `json:",omitzero"`
	Gateway6      netip.Addr `json:",omitzero"`
	DefaultOnLink bool       `json:",omitzero"`
}

// Host is one machine of the lab: a network namespace, on one LAN or more (a router). Addr4 and
// Addr6 give its address on each of its LANs, in the order of LANs.
type Host struct {
	Name  string
	LANs  []int // indexes into Spec.LANs
	Addr4 []netip.Addr
	Addr6 []netip.Addr
}

// Router reports whether h is on more than one LAN: it forwards, and is the gateway of the hosts
// on its LANs.
func (h *Host) Router() bool { return len(h.LANs) > 1 }

// Spec is a lab's plan: its LANs and hosts, with every address.
type Spec struct {
	LANs  []LAN
	Hosts []Host
	// ICMPRateLimit, when set, is the minimum interval between ICMP errors a host sends to one
	// destination, in milliseconds, for every host (net.ipv4.icmp_ratelimit and
	// net.ipv6.icmp.ratelimit; 0 turns the limit off). When nil the hosts keep the kernel's
	// default (1000 ms, with a burst of 6), as any Linux host has it.
	ICMPRateLimit *int `json:",omitempty"`
}

// MaxNameLen is the longest name a host or LAN may have.
const MaxNameLen = 12

// validName reports whether name is a host's or a LAN's name: nameRule.
func validName(name string) bool {
	if len(name) == 0 || len(name) > MaxNameLen || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// nameRule says what validName accepts.
const nameRule = "use a-z and 0-9, starting with a letter, at most 12 characters"

// reserved4 are the IPv4 ranges a LAN cannot use: the kernel gives them meanings of their own
// (RFC 6890), so that a host on such a LAN would not behave as one on a LAN.
var reserved4 = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `"this network" (0.0.0.0/8)`},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (127.0.0.0/8)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (169.254.0.0/16)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast (224.0.0.0/4)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved, class E and broadcast (240.0.0.0/4)"},
}

// reservedNames are names a host cannot have: the network's own methods in Lua.
var reservedNames = map[string]bool{"close": true, "hosts": true, "lans": true}

// OneLAN plans hosts on one LAN, 10.0.0.0/24 and fd00::/64, numbered in the order given.
func OneLAN(names []string) (*Spec, error) {
	hosts := make(map[string][]string, len(names))
	for _, n := range names {
		if _, dup := hosts[n]; dup {
			return nil, fmt.Errorf("host %q is named twice", n)
		}
		hosts[n] = []string{"lan"}
	}
	return plan(map[string]string{"lan": "10.0.0.0/24"}, hosts, names)
}

// Plan plans LANs (name: IPv4 prefix, "10.1.0.0/24") and hosts (name: the LANs it is on).
// Hosts are numbered on each LAN in the order of their names; LAN i (in the order of names) gets
// the IPv6 prefix fd00:0:0:i::/64.
func Plan(lans map[string]string, hosts map[string][]string) (*Spec, error) {
	names := make([]string, 0, len(hosts))
	for n := range hosts {
		names = append(names, n)
	}
	sort.Strings(names)
	return plan(lans, hosts, names)
}

func plan(lans map[string]string, hosts map[string][]string, order []string) (*Spec, error) {
	switch {
	case len(lans) == 0:
		return nil, fmt.Errorf("a lab needs a LAN")
	case len(lans) > MaxLANs:
		return nil, fmt.Errorf("%d LANs; at most %d", len(lans), MaxLANs)
	case len(hosts) == 0:
		return nil, fmt.Errorf("a lab needs a host")
	case len(hosts) > MaxHosts:
		return nil, fmt.Errorf("%d hosts; at most %d", len(hosts), MaxHosts)
	}
	spec := &Spec{}
	lanIndex := map[string]int{}
	lanNames := make([]string, 0, len(lans))
	for n := range lans {
		lanNames = append(lanNames, n)
	}
	sort.Strings(lanNames)
	for i, n := range lanNames {
		if !validName(n) {
			return nil, fmt.Errorf("LAN name %q: %s", n, nameRule)
		}
		p, err := netip.ParsePrefix(lans[n])
		if err != nil || !p.Addr().Is4() || p.Bits() > 30 || p.Bits() < 8 {
			return nil, fmt.Errorf("LAN %s: %q is not an IPv4 prefix from /8 to /30 (\"10.1.0.0/24\")", n, lans[n])
		}
		for _, r := range reserved4 {
			if r.prefix.Overlaps(p) {
				return nil, fmt.Errorf("LAN %s: %s is within %s: give a private prefix such as 10.1.0.0/24 or 192.168.1.0/24", n, p, r.what)
			}
		}
		for _, other := range spec.LANs {
			if other.Prefix4.Overlaps(p.Masked()) {
				return nil, fmt.Errorf("LANs %s and %s overlap", other.Name, n)
			}
		}
		v6 := netip.AddrFrom16([16]byte{0: 0xfd, 7: byte(i)})
		spec.LANs = append(spec.LANs, LAN{Name: n, Prefix4: p.Masked(), Prefix6: netip.PrefixFrom(v6, 64)})
		lanIndex[n] = i
	}
	next4 := make([]netip.Addr, len(spec.LANs))
	next6 := make([]netip.Addr, len(spec.LANs))
	for i, l := range spec.LANs {
		next4[i], next6[i] = l.Prefix4.Addr().Next(), l.Prefix6.Addr().Next()
	}
	for _, name := range order {
		if !validName(name) || reservedNames[name] {
			return nil, fmt.Errorf("host name %q: %s (not close, hosts, lans)", name, nameRule)
		}
		h := Host{Name: name}
		seen := map[int]bool{}
		for _, ln := range hosts[name] {
			i, ok := lanIndex[ln]
			if !ok {
				return nil, fmt.Errorf("host %s: no LAN %q", name, ln)
			}
			if seen[i] {
				return nil, fmt.Errorf("host %s is on LAN %s twice", name, ln)
			}
			seen[i] = true
			a := next4[i]
			if !spec.LANs[i].Prefix4.Contains(a.Next()) { // the last address is the broadcast
				return nil, fmt.Errorf("LAN %s is too small for its hosts", ln)
			}
			h.LANs = append(h.LANs, i)
			h.Addr4 = append(h.Addr4, a)
			h.Addr6 = append(h.Addr6, next6[i])
			next4[i], next6[i] = a.Next(), next6[i].Next()
		}
		if len(h.LANs) == 0 {
			return nil, fmt.Errorf("host %s is on no LAN", name)
		}
		spec.Hosts = append(spec.Hosts, h)
	}
	spec.planGateways()
	return spec, nil
}

// planGateways gives each LAN that no router joins the gateway its hosts' default routes go
// through: the highest address before its broadcast address that no host holds; a LAN whose
// every address is taken (a /30 of two hosts) gets default routes through the link instead.
// Either way its hosts have the default route every home or classroom LAN gives them, so that
// 255.255.255.255 and off-LAN destinations answer as they would there.
func (s *Spec) planGateways() {
	for i := range s.LANs {
		l := &s.LANs[i]
		if s.Gateway(nil, i) >= 0 {
			continue
		}
		taken := map[netip.Addr]bool{}
		for _, h := range s.Hosts {
			if a, _, on := h.AddrOn(i); on {
				taken[a] = true
			}
		}
		size := uint32(1) << (32 - l.Prefix4.Bits())
		b := l.Prefix4.Addr().As4()
		base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		l.DefaultOnLink = true
		for n := size - 2; n >= 1; n-- {
			v := base + n
			a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
			if taken[a] {
				continue
			}
			v6 := l.Prefix6.Addr().As16()
			v6[12], v6[13], v6[14], v6[15] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
			l.Gateway4, l.Gateway6, l.DefaultOnLink = a, netip.AddrFrom16(v6), false
			break
		}
	}
}

// Gateway returns the router on LAN lan other than h (nil: any), and its index, or -1.
func (s *Spec) Gateway(h *Host, lan int) int {
	for i := range s.Hosts {
		r := &s.Hosts[i]
		if r == h || !r.Router() {
			continue
		}
		for _, l := range r.LANs {
			if l == lan {
				return i
			}
		}
	}
	return -1
}

// Route is a route a host needs to a LAN it is not on: through a router's addresses Via4 and
// Via6 on the host's LAN number Link (its interface ethLink).
type Route struct {
	LAN        int // the LAN reached, an index into Spec.LANs
	Link       int // an index into the host's LANs
	Via4, Via6 netip.Addr
}

// Routes returns the routes host h needs to reach every LAN of the lab that its own LANs and its
// default route do not: for each LAN it is not on, the first router of a shortest path (the
// fewest routers; of equal paths, the router found first, by LAN then host), unless that router
// is its default gateway already. A router has no default route: it gets a route to each LAN it
// is not on that some path reaches. So a chain of LANs works end to end, as a network of static
// routes does, and no datagram goes through a router that would send it back on the LAN it
// came from.
func (s *Spec) Routes(h int) []Route {
	host := &s.Hosts[h]
	type hop struct{ router, lan int } // the first router towards a LAN, on host's LAN lan
	first := make([]hop, len(s.LANs))
	seen := make([]bool, len(s.LANs))
	var queue []int
	for l := range first {
		first[l] = hop{-1, -1}
	}
	for _, l := range host.LANs {
		seen[l] = true
		queue = append(queue, l)
	}
	for len(queue) > 0 {
		l := queue[0]
		queue = queue[1:]
		for r := range s.Hosts {
			if _, _, on := s.Hosts[r].AddrOn(l); r == h || !on || !s.Hosts[r].Router() {
				continue
			}
			for _, next := range s.Hosts[r].LANs {
				if seen[next] {
					continue
				}
				seen[next] = true
				if first[l].router >= 0 {
					first[next] = first[l]
				} else {
					first[next] = hop{r, l}
				}
				queue = append(queue, next)
			}
		}
	}
	gateway := -1
	if !host.Router() {
		gateway = s.Gateway(host, host.LANs[0])
	}
	var routes []Route
	for l, f := range first {
		if f.router < 0 || f.router == gateway {
			continue
		}
		r := Route{LAN: l}
		r.Via4, r.Via6, _ = s.Hosts[f.router].AddrOn(f.lan)
		for k, hl := range host.LANs {
			if hl == f.lan {
				r.Link = k
			}
		}
		routes = append(routes, r)
	}
	return routes
}

// AddrOn returns h's addresses on LAN lan.
func (h *Host) AddrOn(lan int) (netip.Addr, netip.Addr, bool) {
	for k, l := range h.LANs {
		if l == lan {
			return h.Addr4[k], h.Addr6[k], true
		}
	}
	return netip.Addr{}, netip.Addr{}, false
}

func ipnet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(bits, a.BitLen())}
}

func broadcast(p netip.Prefix) net.IP {
	b := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
