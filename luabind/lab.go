package luabind

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/udplab/udplab/lab"
	"github.com/udplab/udplab/sock"
)

// The lab in Lua: network{...} returns a table with one field per host, and close; a host has
// its name, addresses and the methods socket, down, up, firewall, impair and nat.
//
//	local net = network{"a", "b", "c"}
//	local s = net.a:socket(AF_INET, SOCK_DGRAM); connect(s, net.b.addr, 43211)

// labHost is what the runtime knows of a host table: its network and name.
type labHost struct {
	net  *lab.Network
	name string
}

var networkBinding = binding{name: "network", fn: (*Runtime).networkCall, help: helpEntry{
	`network{"a", "b", ...} | network{lans = {left = "10.1.0.0/24", ...}, hosts = {a = "left", r = {"left", "right"}, ...}}`,
	"build a lab: hosts in network namespaces on real LANs (bridges), needing no root",
	"the network; on failure nil, message, errno. net.a is host a: net.a.addr,\n" +
		"  net.a.addr6, net.a.addrs[lan], net.a.addrs6[lan] (read-only).\n" +
		"  net.a:socket(family, type)  a socket inside host a; every call works on it\n" +
		"  net.a:down(), net.a:up()    unplug a from its LANs, plug it back\n" +
		"  net.a:firewall(\"drop\")      drop the UDP that comes to a, or that a router\n" +
		"                              forwards; \"reject\": answer ICMP admin-prohibited\n" +
		"                              (3/13); nil: no firewall\n" +
		"  net.a:impair{loss=0.2, delay=0.05, rate=\"1mbit\"}  a's link loses that share\n" +
		"                              of UDP datagrams each way (the sender's send\n" +
		"                              succeeds: the link, not its kernel, loses them);\n" +
		"                              delay and rate of what a sends; {} undoes it\n" +
		"  net.r:nat(\"right\")          router r masquerades what leaves it on LAN right\n" +
		"                              (it does not block what comes in)\n" +
		"  net:close()                 take it all down (also done at exit, any exit)\n" +
		"  Addresses: one LAN is 10.0.0.0/24 and fd00::/64, hosts numbered in order.\n" +
		"  Several LANs: each an IPv4 prefix from /8 to /30 (not 0/8, loopback,\n" +
		"  link-local, multicast or class E); hosts numbered in the order of their\n" +
		"  names; LAN i (by name) has fd00:0:0:i::/64. Names: a-z and 0-9, starting\n" +
		"  with a letter, at most 12 characters; at most 250 hosts and 16 LANs.\n" +
		"  Routes: a host on two LANs is a router: it forwards (unicast only, no\n" +
		"  multicast routing) and is the default gateway of the hosts on its LANs;\n" +
		"  farther LANs are routed through the next router of a shortest path. On\n" +
		"  a LAN with no router the hosts' default route goes through the last\n" +
		"  address before the broadcast (10.0.0.254), which nobody holds, as on a LAN\n" +
		"  whose router is off (on a LAN with no address free, such as a /30 of two\n" +
		"  hosts, through the link): 255.255.255.255 works; a datagram to another network\n" +
		"  waits for ARP, then (after about 3 s) is dropped with ICMP host unreachable\n" +
		"  from the sender's own kernel, which a socket sees (EHOSTUNREACH) only with\n" +
		"  IP_RECVERR.\n" +
		"  The kernel's defaults stay: ICMP errors to one destination are rate limited\n" +
		"  (6 at once, then 1 per second; for IPv6 to a /64, one every 250 ms);\n" +
		"  network{..., icmp_ratelimit = 0} lifts the limit (the milliseconds between\n" +
		"  two errors; the kernel's default is 1000). nat() translates IPv4 only.\n" +
		"  Inside a host you are root: ports below 1024 bind, SOCK_RAW opens.",
	"EPERM (1)  user namespaces are not allowed here (run as root, or allow them)\n" +
		"ENOSPC (28)  no more user namespaces may be made (user.max_user_namespaces)\n" +
		"EINVAL (22)  this kernel has no user namespaces\n" +
		"EPIPE (32)  the lab's helper died (the message says how); the lab is gone"}}

// networkCall is network(spec).
func (rt *Runtime) networkCall(a args) int {
	L := a.L
	t := a.table(1)
	spec, err := planOf(t)
	if err != nil {
		a.argError(1, err.Error())
	}
	n, err := lab.Start(spec)
	if err != nil {
		return labResult(a, 1, err)
	}
	rt.mu.Lock()
	rt.labs = append(rt.labs, n)
	rt.allLabs = append(rt.allLabs, n)
	wire := rt.wire
	rt.mu.Unlock()
	if wire {
		rt.captureLab(n)
	}
	fields := L.CreateTable(0, len(spec.Hosts))
	names := make([]string, len(spec.Hosts))
	for i := range spec.Hosts {
		h := &spec.Hosts[i]
		names[i] = h.Name
		hf := L.CreateTable(0, 5)
		hf.RawSetString("name", lua.LString(h.Name))
		hf.RawSetString("addr", lua.LString(h.Addr4[0].String()))
		hf.RawSetString("addr6", lua.LString(h.Addr6[0].String()))
		addrs, addrs6 := L.CreateTable(0, len(h.LANs)), L.CreateTable(0, len(h.LANs))
		for k, lan := range h.LANs {
			addrs.RawSetString(spec.LANs[lan].Name, lua.LString(h.Addr4[k].String()))
			addrs6.RawSetString(spec.LANs[lan].Name, lua.LString(h.Addr6[k].String()))
		}
		hf.RawSetString("addrs", rt.readOnly(L, addrs, "addresses", "host "+h.Name+"'s addresses", nil))
		hf.RawSetString("addrs6", rt.readOnly(L, addrs6, "addresses", "host "+h.Name+"'s addresses", nil))
		hf.Metatable = rt.hostMethodsMT
		text := lua.LString(fmt.Sprintf("host %s (%s, %s)", h.Name, h.Addr4[0], h.Addr6[0]))
		ht := rt.readOnly(L, hf, "host", "host "+h.Name, func(L *lua.LState) int {
			L.Push(text)
			return 1
		})
		rt.hosts[ht] = labHost{net: n, name: h.Name}
		fields.RawSetString(h.Name, ht)
	}
	fields.Metatable = rt.networkMethodsMT
	text := lua.LString("network(" + strings.Join(names, ", ") + ")")
	net := rt.readOnly(L, fields, "network", "a network", func(L *lua.LState) int {
		L.Push(text)
		return 1
	})
	rt.networks[net] = n
	L.Push(net)
	return 1
}

// readOnly returns a table that reads as fields and refuses to be written, as a value the lab
// made must: changing net.a.addr would not change host a's address. Its metatable, locked
// (__metatable), has name as __name and tostring as __tostring when it is not nil; what names
// what it is in the error.
func (rt *Runtime) readOnly(L *lua.LState, fields *lua.LTable, name, what string, tostring lua.LGFunction) *lua.LTable {
	mt := L.CreateTable(0, 5)
	mt.RawSetString("__name", lua.LString(name))
	mt.RawSetString("__index", fields)
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("%s cannot be changed (field '%s'): the lab made it, and the kernel would not follow", what, lua.LVAsString(L.Get(2)))
		return 0
	}))
	mt.RawSetString("__metatable", lua.LString(name))
	if tostring != nil {
		mt.RawSetString("__tostring", L.NewFunction(tostring))
	}
	t := L.CreateTable(0, 0)
	t.Metatable = mt
	return t
}

// planKeys are the fields a network's plan may have besides its list of host names.
var planKeys = map[string]bool{"lans": true, "hosts": true, "icmp_ratelimit": true}

// planOf reads a network's plan from its Lua table.
func planOf(t *lua.LTable) (*lab.Spec, error) {
	var unknown string
	t.ForEach(func(k, _ lua.LValue) {
		if n, ok := k.(lua.LNumber); ok && n >= 1 && int(n) <= t.Len() && float64(n) == float64(int(n)) {
			return
		}
		if ks, ok := k.(lua.LString); !ok || !planKeys[string(ks)] {
			if unknown == "" {
				unknown = lua.LVAsString(k)
				if _, ok := k.(lua.LString); !ok {
					unknown = fmt.Sprintf("%s %s", k.Type(), unknown)
				}
			}
		}
	})
	if unknown != "" {
		return nil, fmt.Errorf(`unknown field '%s' (a list of host names, or lans and hosts; icmp_ratelimit)`, unknown)
	}
	spec, err := hostsOf(t)
	if err != nil {
		return nil, err
	}
	if v := t.RawGetString("icmp_ratelimit"); v != lua.LNil {
		ms, ok := v.(lua.LNumber)
		if !ok || ms < 0 || ms > 60000 || float64(ms) != float64(int(ms)) {
			return nil, fmt.Errorf("icmp_ratelimit: the milliseconds between two ICMP errors to one destination, a whole number from 0 (no limit) to 60000; got %s", lua.LVAsString(v))
		}
		n := int(ms)
		spec.ICMPRateLimit = &n
	}
	return spec, nil
}

// hostsOf reads a network's hosts and LANs from its Lua table: a list of names, or lans and hosts.
func hostsOf(t *lua.LTable) (*lab.Spec, error) {
	lansV, hostsV := t.RawGetString("lans"), t.RawGetString("hosts")
	if t.Len() > 0 {
		if lansV != lua.LNil || hostsV != lua.LNil {
			return nil, fmt.Errorf(`give host names {"a", "b"}, or lans = {...} and hosts = {...}, not both`)
		}
		names := make([]string, t.Len())
		for i := range names {
			s, ok := t.RawGetInt(i + 1).(lua.LString)
			if !ok {
				return nil, fmt.Errorf("host %d must be a name (a string)", i+1)
			}
			names[i] = string(s)
		}
		return lab.OneLAN(names)
	}
	lansT, ok1 := lansV.(*lua.LTable)
	hostsT, ok2 := hostsV.(*lua.LTable)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf(`give host names {"a", "b"}, or lans = {...} and hosts = {...}`)
	}
	lans := map[string]string{}
	var bad error
	lansT.ForEach(func(k, v lua.LValue) {
		ks, ok1 := k.(lua.LString)
		vs, ok2 := v.(lua.LString)
		if !ok1 || !ok2 {
			bad = fmt.Errorf(`lans: each LAN is name = "prefix" ("10.1.0.0/24")`)
			return
		}
		lans[string(ks)] = string(vs)
	})
	hosts := map[string][]string{}
	hostsT.ForEach(func(k, v lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok {
			bad = fmt.Errorf("hosts: each host is name = LAN or name = {LAN, LAN}")
			return
		}
		switch v := v.(type) {
		case lua.LString:
			hosts[string(ks)] = []string{string(v)}
		case *lua.LTable:
			for i := 1; i <= v.Len(); i++ {
				hosts[string(ks)] = append(hosts[string(ks)], lua.LVAsString(v.RawGetInt(i)))
			}
		default:
			bad = fmt.Errorf("host %s: give its LAN, or a list of LANs", ks)
		}
	})
	if bad != nil {
		return nil, bad
	}
	return lab.Plan(lans, hosts)
}

// installLab makes the metatables of networks and hosts.
func (rt *Runtime) installLab(L *lua.LState) {
	rt.hosts = map[*lua.LTable]labHost{}
	rt.networks = map[*lua.LTable]*lab.Network{}
	methods := L.CreateTable(0, 6)
	for _, m := range []struct {
		name string
		fn   func(rt *Runtime, a args, h labHost) int
	}{
		{"socket", (*Runtime).hostSocket}, {"down", (*Runtime).hostDown}, {"up", (*Runtime).hostUp},
		{"firewall", (*Runtime).hostFirewall}, {"impair", (*Runtime).hostImpair}, {"nat", (*Runtime).hostNAT},
		{"exec", (*Runtime).hostExec}, {"spawn", (*Runtime).hostSpawn},
	} {
		fn := m.fn
		b := &binding{name: m.name, onHost: true, fn: func(rt *Runtime, a args) int {
			return fn(rt, a, rt.checkHost(a))
		}}
		if m.name == "socket" {
			b.step = stepPause
		}
		methods.RawSetString(m.name, L.NewFunction(rt.guard(b)))
	}
	rt.hostMethodsMT = L.CreateTable(0, 1)
	rt.hostMethodsMT.RawSetString("__index", methods)
	networkMethods := L.CreateTable(0, 1)
	networkMethods.RawSetString("close", L.NewFunction(rt.guard(&binding{name: "close", fn: func(rt *Runtime, a args) int {
		n, ok := rt.networks[a.table(1)]
		if !ok {
			a.typeError(1, "network")
		}
		return pushZero(a.L, n.Close())
	}})))
	rt.networkMethodsMT = L.CreateTable(0, 1)
	rt.networkMethodsMT.RawSetString("__index", networkMethods)
}

// checkHost returns the host at argument 1 (the self of a method call).
func (rt *Runtime) checkHost(a args) labHost {
	if t, ok := a.L.Get(1).(*lua.LTable); ok {
		if h, ok := rt.hosts[t]; ok {
			return h
		}
	}
	a.typeError(1, "host")
	return labHost{}
}

func (rt *Runtime) hostSocket(a args, h labHost) int {
	family, sotype, protocol := a.family(2), a.sotype(3), a.optCint(4, 0)
	fd, err := h.net.Socket(h.name, family, sotype, protocol)
	if err != nil {
		return labResult(a, 2, err)
	}
	rt.pushSocket(a.L, sock.Adopt(fd, h.name, family, sotype, protocol, &rt.sockConfig))
	return 1
}

// labResult pushes what a lab call gave: 0; the failure triple, with the helper's own words, when
// the kernel refused (the errno); or an argument error at n when the request made no sense.
func labResult(a args, n int, err error) int {
	var le *lab.Error
	if !errors.As(err, &le) {
		return pushZero(a.L, err)
	}
	if le.Errno == 0 {
		a.argError(n, le.Msg)
	}
	a.L.Push(lua.LNil)
	a.L.Push(lua.LString(le.Msg))
	a.L.Push(intValue(int(le.Errno)))
	return 3
}

func (rt *Runtime) hostDown(a args, h labHost) int { return labResult(a, 1, h.net.Down(h.name)) }

func (rt *Runtime) hostUp(a args, h labHost) int { return labResult(a, 1, h.net.Up(h.name)) }

func (rt *Runtime) hostFirewall(a args, h labHost) int {
	mode := ""
	if a.L.Get(2) != lua.LNil {
		mode = a.string(2)
		if mode != "drop" && mode != "reject" {
			a.argError(2, `"drop", "reject" or nil expected`)
		}
	}
	return labResult(a, 2, h.net.Firewall(h.name, mode))
}

func (rt *Runtime) hostNAT(a args, h labHost) int {
	lan := ""
	if a.L.Get(2) != lua.LNil {
		lan = a.string(2)
	}
	return labResult(a, 2, h.net.NAT(h.name, lan))
}

func (rt *Runtime) hostImpair(a args, h labHost) int {
	var imp lab.Impairment
	if a.L.Get(2) != lua.LNil {
		t := a.table(2)
		var bad string
		t.ForEach(func(k, v lua.LValue) {
			key := lua.LVAsString(k)
			switch key {
			case "loss", "delay":
				f, ok := v.(lua.LNumber)
				switch {
				case !ok:
					bad = fmt.Sprintf("impairment %s must be a number, got %s", key, v.Type().String())
				case key == "loss" && !(f >= 0 && f <= 1):
					bad = fmt.Sprintf("impairment loss is the share of datagrams lost, within 0..1 (0.2: one in five); got %s", lua.LVAsString(v))
				case key == "delay" && !(f >= 0 && f <= 60):
					bad = fmt.Sprintf("impairment delay is in seconds, within 0..60 (0.05: 50 ms); got %s", lua.LVAsString(v))
				case key == "loss":
					imp.Loss = float64(f)
				default:
					imp.Delay = float64(f)
				}
				if bad != "" {
					return
				}
			case "rate":
				r, err := parseRate(v)
				if err != nil {
					bad = err.Error()
					return
				}
				imp.Rate = r
			default:
				bad = "unknown impairment '" + key + "' (loss, delay, rate)"
			}
		})
		if bad != "" {
			a.argError(2, bad)
		}
	}
	return labResult(a, 2, h.net.Impair(h.name, imp))
}

var rateRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$`)
})

// parseRate reads a rate as tc writes one ("1mbit", "500kbit", "2mbps") or a number of bytes per
// second.
func parseRate(v lua.LValue) (uint64, error) {
	if n, ok := v.(lua.LNumber); ok && n > 0 && float64(n) < 1e12 {
		return uint64(n), nil
	}
	m := rateRE().FindStringSubmatch(strings.ToLower(lua.LVAsString(v)))
	if m == nil {
		return 0, fmt.Errorf(`impairment rate: give bytes per second, or "1mbit", "500kbit", "2mbps"`)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	unit := map[string]float64{"bit": 1.0 / 8, "kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8, "bps": 1, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9}[m[2]]
	if r := f * unit; r >= 1 && r < 1e12 {
		return uint64(r), nil
	}
	return 0, fmt.Errorf("impairment rate %s is out of range", m[0])
}

// captureLab adds the lab's LANs to the wire view; a LAN that cannot be captured is said once.
func (rt *Runtime) captureLab(n *lab.Network) {
	captures, err := n.Captures()
	for _, c := range captures {
		rt.tracer.AddCapture(c)
	}
	if err != nil {
		fmt.Fprintf(rt.stderr(), "udplab: no wire view of the lab's LANs: %v\n", err)
	}
}

// closeLabs takes every lab down.
func (rt *Runtime) closeLabs() {
	rt.mu.Lock()
	labs := rt.labs
	rt.labs = nil
	rt.mu.Unlock()
	for _, n := range labs {
		n.Close()
	}
}
