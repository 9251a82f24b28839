package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// helperEnv marks the process udplab starts as the lab's helper.
const helperEnv = "UDPLAB_LAB_HELPER"

// RunHelperIfAsked makes this process the lab's helper, and exits, when udplab started it as one;
// else it returns at once. Call it first thing in main (and in a test binary's TestMain).
func RunHelperIfAsked() {
	switch {
	case os.Getenv(helperEnv) == "1":
		os.Exit(helperMain())
	case os.Getenv(initEnv) == "1":
		os.Exit(initMain())
	}
}

// request is what udplab asks the helper.
type request struct {
	Op                  string // build, socket, capture, exec, signal, down, up, firewall, nat, impair
	Spec                *Spec  `json:",omitempty"`
	Host                string `json:",omitempty"`
	Family, Type, Proto int    `json:",omitempty"`
	Mode                string `json:",omitempty"` // firewall: drop, reject or "" (none)
	LAN                 string `json:",omitempty"` // nat: the LAN whose side is masqueraded
	Impairment          `json:",omitempty"`
	Program             `json:",omitempty"` // exec: what to run; its stdin, stdout, stderr and status pipe come with it
	Pid                 int                 `json:",omitempty"` // signal: the program, by the pid exec gave
	Signal              int                 `json:",omitempty"`
}

// Program is a program to run in a host.
type Program struct {
	Path string   // the executable, absolute
	Argv []string // its arguments, the name it is called by first
	Env  []string // its environment
	Dir  string   // its working directory; "" for udplab's
}

// Impairment is what a host's link does to its traffic.
type Impairment struct {
	Loss  float64 // the share of UDP datagrams dropped each way, 0 to 1
	Delay float64 // seconds added to each packet sent
	Rate  uint64  // bytes per second a host may send; 0: no limit
}

// reply is the helper's answer: nothing, or the error; for exec, the program's pid in the
// helper's PID namespace.
type reply struct {
	Err   string `json:",omitempty"`
	Errno int    `json:",omitempty"`
	Pid   int    `json:",omitempty"`
}

// built is the lab as the helper holds it.
type built struct {
	spec    *Spec
	lab     netns.NsHandle   // the helper's own namespace: the bridges
	hosts   []netns.NsHandle // each host's namespace
	bridges []int            // each LAN's bridge, by interface index
	loss    map[int]float64  // the share of UDP datagrams each host's links lose, by host
	init    initLink         // the lab's init, which starts programs in the hosts
}

func helperMain() int {
	unix.CloseOnExec(3) // the channel is the helper's alone, never a program's it starts
	ch := sock.FDChannelFromFile(os.NewFile(3, "lab"))
	var b *built
	for {
		msg, in, err := ch.Recv()
		if err != nil {
			return 0 // udplab closed the lab, or ended
		}
		var req request
		var rep reply
		var out []int
		if err = json.Unmarshal(msg, &req); err == nil {
			switch req.Op {
			case "build":
				b, err = build(req.Spec)
			default:
				if b == nil {
					err = errors.New("the lab is not built")
				} else {
					rep, out, err = b.serve(&req, in)
				}
			}
		}
		for _, fd := range in {
			sock.CloseFD(fd) // what a request brought is used by now (a program holds its copies)
		}
		if err != nil {
			rep = reply{Err: err.Error(), Errno: int(sock.ErrnoOf(err))}
			if req.Op == "socket" && rep.Errno != 0 {
				rep.Err = sock.Strerror(unix.Errno(rep.Errno)) // as socket() itself says it
			}
		}
		answer, _ := json.Marshal(rep)
		if serr := ch.Send(answer, out...); serr != nil {
			return 1
		}
		for _, fd := range out {
			sock.CloseFD(fd)
		}
	}
}

// serve carries out one request on the built lab, with the descriptors it brought; it returns
// the reply and the descriptors to send with it (a socket, a capture, a program's pidfd).
func (b *built) serve(req *request, in []int) (reply, []int, error) {
	fd, err := -1, error(nil)
	var rep reply
	switch req.Op {
	case "capture":
		fd, err = sock.OpenPacketIn(int(b.lab))
	case "signal":
		_, _, err = b.init.ask(req)
	default:
		h := b.host(req.Host)
		if h < 0 {
			return rep, nil, fmt.Errorf("no host %q", req.Host)
		}
		switch req.Op {
		case "socket":
			fd, err = sock.OpenIn(int(b.hosts[h]), req.Family, req.Type, req.Proto)
		case "exec":
			var got []int
			rep, got, err = b.init.ask(req, append([]int{int(b.hosts[h])}, in...)...)
			if len(got) > 0 {
				fd = got[0]
			}
		case "down", "up":
			err = b.setLinks(h, req.Op == "up")
		case "firewall":
			err = firewall(b.hosts[h], req.Mode)
		case "nat":
			err = b.nat(h, req.LAN)
		case "impair":
			err = b.impair(h, req.Impairment)
		default:
			err = fmt.Errorf("unknown request %q", req.Op)
		}
	}
	if err != nil || fd < 0 {
		return rep, nil, err
	}
	return rep, []int{fd}, nil
}

func (b *built) host(name string) int {
	for i := range b.spec.Hosts {
		if b.spec.Hosts[i].Name == name {
			return i
		}
	}
	return -1
}

// Interface names: in a host, eth0, eth1... in the order of its LANs; in the lab's namespace,
// the bridge brJ of LAN J and the host end hIlJ of host I's link to it.
func hostIf(k int) string      { return "eth" + strconv.Itoa(k) }
func bridgeIf(lan int) string  { return "br" + strconv.Itoa(lan) }
func portIf(h, lan int) string { return "h" + strconv.Itoa(h) + "l" + strconv.Itoa(lan) }

// build makes the lab of spec: the bridges here, a namespace per host, the links, addresses and
// routes.
func build(spec *Spec) (*built, error) {
	if spec == nil {
		return nil, errors.New("no plan")
	}
	runtime.LockOSThread() // netns.New switches the thread; it is switched back below
	defer runtime.UnlockOSThread()
	home, err := netns.Get()
	if err != nil {
		return nil, err
	}
	b := &built{spec: spec, lab: home, loss: map[int]float64{}}
	here, err := netlink.NewHandle()
	if err != nil {
		return nil, err
	}
	defer here.Close()
	if lo, err := here.LinkByName("lo"); err == nil {
		here.LinkSetUp(lo)
	}
	off := false
	for j := range spec.LANs {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridgeIf(j), Flags: net.FlagUp}, MulticastSnooping: &off}
		if err := here.LinkAdd(br); err != nil {
			return nil, fmt.Errorf("bridge for LAN %s: %w", spec.LANs[j].Name, err)
		}
		b.bridges = append(b.bridges, br.Index)
	}
	for i := range spec.Hosts {
		ns, err := netns.New()
		if err != nil {
			netns.Set(home)
			return nil, fmt.Errorf("namespace for host %s: %w", spec.Hosts[i].Name, err)
		}
		if err := netns.Set(home); err != nil {
			return nil, err
		}
		b.hosts = append(b.hosts, ns)
	}
	for i := range spec.Hosts {
		if err := b.plug(here, i); err != nil {
			return nil, fmt.Errorf("host %s: %w", spec.Hosts[i].Name, err)
		}
	}
	for i := range spec.Hosts {
		if err := b.route(i); err != nil {
			return nil, fmt.Errorf("host %s: %w", spec.Hosts[i].Name, err)
		}
	}
	if err := b.waitLinks(here); err != nil {
		return nil, err
	}
	return b, nil
}

// linksUpBound is how long the links of a new lab may take to come up.
const linksUpBound = 10 * time.Second

// waitLinks waits until every link of the lab is up at both ends. The kernel notes a veth's
// carrier later, in its link watch (deferred by up to a second, more under load), and only then
// does the bridge forward on that port: a datagram sent before would be lost. Reading the state
// through netlink takes the lock the link watch holds while it also updates the bridge, so a link
// seen up here is one the bridge forwards on.
func (b *built) waitLinks(here *netlink.Handle) error {
	deadline := time.Now().Add(linksUpBound)
	for i := range b.spec.Hosts {
		if err := b.waitHostLinks(here, i, deadline); err != nil {
			return err
		}
	}
	return nil
}

// waitHostLinks waits, until deadline, for the links of host i to be up at both ends.
func (b *built) waitHostLinks(here *netlink.Handle, i int, deadline time.Time) error {
	in, err := netlink.NewHandleAt(b.hosts[i])
	if err != nil {
		return err
	}
	defer in.Close()
	for k, lan := range b.spec.Hosts[i].LANs {
		for _, end := range []struct {
			h    *netlink.Handle
			name string
		}{{here, portIf(i, lan)}, {in, hostIf(k)}} {
			for {
				link, err := end.h.LinkByName(end.name)
				if err != nil {
					return err
				}
				if link.Attrs().OperState == netlink.OperUp {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("host %s: link %s not up after %v", b.spec.Hosts[i].Name, end.name, linksUpBound)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	return nil
}

// plug links host i to its LANs and gives it its addresses.
func (b *built) plug(here *netlink.Handle, i int) error {
	h := &b.spec.Hosts[i]
	in, err := netlink.NewHandleAt(b.hosts[i])
	if err != nil {
		return err
	}
	defer in.Close()
	if lo, err := in.LinkByName("lo"); err == nil {
		in.LinkSetUp(lo)
	}
	// Addresses work at once (no duplicate address detection), and a router forwards. Every
	// other setting keeps the kernel's default, as on any Linux host: ICMP errors are rate
	// limited unless the plan asks otherwise.
	settings := map[string]string{
		"ipv6/conf/default/accept_dad": "0", "ipv6/conf/all/accept_dad": "0",
	}
	if ms := b.spec.ICMPRateLimit; ms != nil {
		settings["ipv4/icmp_ratelimit"] = strconv.Itoa(*ms)
		settings["ipv6/icmp/ratelimit"] = strconv.Itoa(*ms)
	}
	if h.Router() {
		settings["ipv4/ip_forward"] = "1"
		settings["ipv6/conf/all/forwarding"] = "1"
	}
	if err := sysctls(b.hosts[i], settings); err != nil {
		return err
	}
	for k, lan := range h.LANs {
		// The veth is made with its peer already in the host's namespace, under its name
		// there: moving a link between namespaces waits for an RCU grace period (18 ms each
		// here, 4.5 of the 4.8 s a 250-host lab took), making one there does not.
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: portIf(i, lan), MasterIndex: b.bridges[lan], Flags: net.FlagUp},
			PeerName: hostIf(k), PeerNamespace: netlink.NsFd(b.hosts[i])}
		if err := here.LinkAdd(veth); err != nil {
			return err
		}
		link, err := in.LinkByName(hostIf(k))
		if err != nil {
			return err
		}
		l := b.spec.LANs[lan]
		for _, a := range []*netlink.Addr{
			{IPNet: ipnet(h.Addr4[k], l.Prefix4.Bits()), Broadcast: broadcast(l.Prefix4)},
			{IPNet: ipnet(h.Addr6[k], 64), Flags: unix.IFA_F_NODAD},
		} {
			if err := in.AddrAdd(link, a); err != nil {
				return err
			}
		}
		if err := in.LinkSetUp(link); err != nil {
			return err
		}
	}
	return nil
}

// route gives host i its routes beyond its own LANs. A host on one LAN gets its default routes:
// through the LAN's router, or, on a LAN with none, through the LAN's gateway address, which
// nobody holds (a LAN whose router is off), or through its link when no address is free. Every host, router or not, gets a route to each
// LAN that its default route does not reach through the right router (Spec.Routes).
func (b *built) route(i int) error {
	h := &b.spec.Hosts[i]
	var via4, via6 netip.Addr
	onLink := false
	if !h.Router() {
		lan := &b.spec.LANs[h.LANs[0]]
		via4, via6, onLink = lan.Gateway4, lan.Gateway6, lan.DefaultOnLink
		if gw := b.spec.Gateway(h, h.LANs[0]); gw >= 0 {
			via4, via6, _ = b.spec.Hosts[gw].AddrOn(h.LANs[0])
			onLink = false
		}
	}
	routes := b.spec.Routes(i)
	if !via4.IsValid() && !onLink && len(routes) == 0 {
		return nil
	}
	in, err := netlink.NewHandleAt(b.hosts[i])
	if err != nil {
		return err
	}
	defer in.Close()
	links := make([]int, len(h.LANs))
	for k := range h.LANs {
		link, err := in.LinkByName(hostIf(k))
		if err != nil {
			return err
		}
		links[k] = link.Attrs().Index
	}
	if onLink {
		for _, dst := range []*net.IPNet{ipnet(netip.IPv4Unspecified(), 0), ipnet(netip.IPv6Unspecified(), 0)} {
			if err := in.RouteAdd(&netlink.Route{LinkIndex: links[0], Dst: dst, Scope: netlink.SCOPE_LINK}); err != nil {
				return fmt.Errorf("default route through the link: %w", err)
			}
		}
	}
	if via4.IsValid() {
		for _, gw := range []netip.Addr{via4, via6} {
			if err := in.RouteAdd(&netlink.Route{LinkIndex: links[0], Gw: gw.AsSlice()}); err != nil {
				return fmt.Errorf("default route via %s: %w", gw, err)
			}
		}
	}
	for _, r := range routes {
		l := &b.spec.LANs[r.LAN]
		for _, rt := range []struct {
			dst netip.Prefix
			gw  netip.Addr
		}{{l.Prefix4, r.Via4}, {l.Prefix6, r.Via6}} {
			err := in.RouteAdd(&netlink.Route{LinkIndex: links[r.Link], Dst: ipnet(rt.dst.Addr(), rt.dst.Bits()), Gw: rt.gw.AsSlice()})
			if err != nil {
				return fmt.Errorf("route to %s via %s: %w", rt.dst, rt.gw, err)
			}
		}
	}
	return nil
}

// setLinks plugs host i's links in or out (on the bridge's side: the host keeps its addresses
// and routes, and sees no carrier).
func (b *built) setLinks(i int, up bool) error {
	here, err := netlink.NewHandle()
	if err != nil {
		return err
	}
	defer here.Close()
	for _, lan := range b.spec.Hosts[i].LANs {
		link, err := here.LinkByName(portIf(i, lan))
		if err != nil {
			return err
		}
		if up {
			err = here.LinkSetUp(link)
		} else {
			err = here.LinkSetDown(link)
		}
		if err != nil {
			return err
		}
	}
	if up {
		return b.waitHostLinks(here, i, time.Now().Add(linksUpBound))
	}
	return nil
}

// sysctls writes net sysctls (paths under /proc/sys/net) in namespace ns.
func sysctls(ns netns.NsHandle, settings map[string]string) error {
	return sock.InNamespace(int(ns), func() error {
		for path, value := range settings {
			if err := os.WriteFile("/proc/sys/net/"+path, []byte(value), 0); err != nil {
				return err
			}
		}
		return nil
	})
}
