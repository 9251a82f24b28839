//go:build linux

package sock

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The wire view: with the trace on, the packets that cross the loopback interface for this
// process's sockets are printed after the call during which they crossed, captured with an
// AF_PACKET socket on "lo" (no libpcap):
//
//	sendto(3, "g1", 2, 0, {sa_family=AF_INET, sin_port=htons(43211), ...}, 16) = 2
//	127.0.0.1:51234 > 127.0.0.1:43211 UDP len 2 "g1"
//	127.0.0.1 > 127.0.0.1 ICMP port unreachable for UDP 127.0.0.1:51234 > 127.0.0.1:43211
//
// On loopback a datagram, and the ICMP error it may bring back, are delivered during the sendto
// itself, so reading the capture when each call line is printed puts them right after it.
// Loopback shows every frame twice, outgoing and incoming; only the incoming copy is kept.
//
// Other traffic on lo must not push the script's own packets out: a filter in the kernel keeps
// only incoming UDP and ICMP errors, the socket has a large buffer, and a goroutine reads it
// whenever frames arrive, keeping those of the tracer's sockets until they are printed. When the
// kernel or the queue still loses some, the view says so: "-- 12 packets dropped by the capture".

// Capture is an AF_PACKET capture on one interface: a Tracer that has it prints, after each call
// line, the frames that crossed since and belong to one of the Tracer's Conns, merged by time
// with its other captures' (merge.go).
type Capture struct {
	file  *os.File
	rc    syscall.RawConn
	owner *Tracer               // whose sockets' frames are kept, and who holds them for their turn
	names map[netip.Addr]string // a lab's hosts by address; nil on lo
	label string                // what the link is called: "lo", a lab's LAN's name
	oob   []byte                // the control message of each frame: its time

	mu   sync.Mutex // guards buf and reading the socket
	buf  []byte
	done chan struct{}
}

const (
	// captureBuffer is the capture socket's receive buffer: about 20,000 small frames.
	captureBuffer = 8 << 20
	// maxQueued bounds the frames kept between two call lines: ten seconds of a LAN carrying
	// 10,000 datagrams a second, while a script waits in one call (about 80 bytes a frame).
	maxQueued = 100000
	// maxReadAtOnce bounds the frames one read takes (a few milliseconds' work): while a flood
	// comes faster than they are read, a read that went on until the socket was empty would
	// never end, and the call line, the timer or the end of the run waiting for it neither.
	maxReadAtOnce = 4096
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// captureFilter is the classic BPF program the kernel runs on each frame: keep the incoming
// copies of ARP, and of UDP datagrams and ICMP (v4) or ICMPv6 error messages over IPv4 or IPv6.
var captureFilter = []unix.SockFilter{
	/* 0 */ {Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0xfffff000 + 4}, // SKF_AD_OFF + SKF_AD_PKTTYPE
	/* 1 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.PACKET_OUTGOING, Jt: 12},
	/* 2 */ {Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 12}, // ethertype
	/* 3 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.ETH_P_ARP, Jt: 11},
	/* 4 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.ETH_P_IP, Jf: 3},
	/* 5 */ {Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 14 + 9}, // IPv4 protocol
	/* 6 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.IPPROTO_UDP, Jt: 8},
	/* 7 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.IPPROTO_ICMP, Jt: 7, Jf: 6},
	/* 8 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.ETH_P_IPV6, Jf: 5},
	/* 9 */ {Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 14 + 6}, // IPv6 next header
	/* 10 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.IPPROTO_UDP, Jt: 4},
	/* 11 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.IPPROTO_ICMPV6, Jf: 2},
	/* 12 */ {Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 14 + 40}, // ICMPv6 type: errors are below 128
	/* 13 */ {Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, K: 128, Jf: 1},
	/* 14 */ {Code: unix.BPF_RET | unix.BPF_K, K: 0},
	/* 15 */ {Code: unix.BPF_RET | unix.BPF_K, K: 0xffff},
}

// OpenCapture opens a capture on the interface called ifname ("lo"). Capturing needs CAP_NET_RAW:
// without it OpenCapture fails with EPERM.
func OpenCapture(ifname string) (*Capture, error) {
	// Protocol 0: the socket receives nothing until it is bound, filter on.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	return captureOn(fd, ifname, nil)
}

// OpenPacketIn opens, inside the network namespace ns, the packet socket a capture is made of
// (CaptureFD), and returns its descriptor: for a lab's helper, whose bridges live there.
func OpenPacketIn(ns int) (int, error) {
	return OpenIn(ns, unix.AF_PACKET, unix.SOCK_RAW, 0)
}

// CaptureFD makes a capture of fd, a packet socket from OpenPacketIn, on the interface called
// ifname in its namespace (a lab's bridge), which it watches whole (promiscuous: a bridge's
// frames are between its ports). The capture also shows ARP, and names the addresses in names
// ("a 10.0.0.1:40000 > b 10.0.0.2:43211 UDP len 2 ..."); label is what the link is called (the
// LAN's name).
func CaptureFD(fd int, ifname, label string, names map[netip.Addr]string) (*Capture, error) {
	c, err := captureOn(fd, ifname, names)
	if c != nil {
		c.label = label
	}
	return c, err
}

// Label returns what the captured link is called: "lo", or a lab's LAN's name.
func (c *Capture) Label() string { return c.label }

// Names returns the names of a lab's hosts by address; nil on lo.
func (c *Capture) Names() map[netip.Addr]string { return c.names }

// captureOn makes a capture of the packet socket fd on ifname: the filter, a large buffer, the
// binding; promiscuous, with ARP shown, when names is not nil (a lab's bridge).
func captureOn(fd int, ifname string, names map[netip.Addr]string) (*Capture, error) {
	fail := func(err error) (*Capture, error) {
		unix.Close(fd)
		return nil, err
	}
	// The interface's index, asked on the capture's own socket (in its namespace): no other
	// descriptor is needed.
	ifr, err := unix.NewIfreq(ifname)
	if err == nil {
		err = unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr)
	}
	if err != nil {
		return fail(fmt.Errorf("no interface %q: %w", ifname, err))
	}
	index := int(ifr.Uint32())
	prog := unix.SockFprog{Len: uint16(len(captureFilter)), Filter: &captureFilter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		return fail(os.NewSyscallError("setsockopt", err))
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, captureBuffer) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, captureBuffer) // unprivileged: as large as allowed
	}
	if names != nil {
		mreq := unix.PacketMreq{Ifindex: int32(index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail(os.NewSyscallError("setsockopt", err))
		}
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail(os.NewSyscallError("setsockopt", err))
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: index}); err != nil {
		return fail(os.NewSyscallError("bind", err))
	}
	file := os.NewFile(uintptr(fd), "capture:"+ifname)
	rc, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, err
	}
	return &Capture{file: file, rc: rc, names: names, label: ifname, buf: make([]byte, 1<<16+256),
		oob: make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))), done: make(chan struct{})}, nil
}

// start begins reading in the background, for owner.
func (c *Capture) start(owner *Tracer) {
	c.owner = owner
	go func() {
		defer close(c.done)
		c.rc.Read(func(fd uintptr) bool {
			c.readAll()
			return false // wait for more; the loop ends when the file is closed
		})
	}()
}

func (c *Capture) close() {
	c.file.Close()
	if c.owner != nil {
		<-c.done
	}
}

// readAll reads the frames the kernel holds now, at most maxReadAtOnce, and gives those of the
// owner's sockets (on a lab's LAN: every one) to the owner to hold until their turn.
func (c *Capture) readAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rc.Control(func(fd uintptr) {
		for range maxReadAtOnce {
			var n, oobn int
			var from unix.Sockaddr
			err := ignoringEINTR(func() (err error) {
				n, oobn, _, from, err = unix.Recvmsg(int(fd), c.buf, c.oob, unix.MSG_DONTWAIT)
				return err
			})
			if err != nil {
				return
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
				continue
			}
			f := heldFrame{capture: c, raw: c.buf[:n]}
			if describeARP(f.raw, c.names) != "" {
				if c.names == nil {
					continue
				}
				f.arp = true
			} else {
				src, dst, ok := frameEndpoints(f.raw)
				if !ok {
					continue
				}
				// On lo, the frames of the owner's sockets; a lab's LAN carries this run's traffic
				// alone (its programs' too): every frame.
				if c.names == nil && !c.owner.owns(src, dst) {
					continue // another program's traffic on lo: not even described
				}
			}
			f.at = frameTime(c.oob[:oobn])
			c.owner.hold(f)
		}
	})
}

// frameTime reads a frame's time from its control message (SO_TIMESTAMPNS); now when it has none.
func frameTime(oob []byte) time.Time {
	if msgs, err := unix.ParseSocketControlMessage(oob); err == nil {
		for _, m := range msgs {
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})) {
				ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
				return time.Unix(ts.Unix())
			}
		}
	}
	return time.Now()
}

// frameEndpoints returns the UDP endpoints a frame is about: a datagram's source and
// destination, or those of the datagram an ICMP error quotes.
func frameEndpoints(frame []byte) (src, dst netip.AddrPort, ok bool) {
	if len(frame) < 14 {
		return src, dst, false
	}
	var s, d netip.Addr
	var proto byte
	var l4 []byte
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case unix.ETH_P_IP:
		s, d, proto, l4, ok = ipv4Header(frame[14:])
		if ok && proto == unix.IPPROTO_ICMP && len(l4) >= 8 {
			s, d, proto, l4, ok = ipv4Header(l4[8:])
		}
	case unix.ETH_P_IPV6:
		s, d, proto, l4, ok = ipv6Header(frame[14:])
		if ok && proto == unix.IPPROTO_ICMPV6 && len(l4) >= 8 {
			s, d, proto, l4, ok = ipv6Header(l4[8:])
		}
	}
	if !ok || proto != unix.IPPROTO_UDP {
		return src, dst, false
	}
	sport, dport, ok := udpPorts(l4)
	return netip.AddrPortFrom(s, sport), netip.AddrPortFrom(d, dport), ok
}

// describeFrame describes an Ethernet frame that carries UDP, or an ICMP error about a UDP
// datagram; else it returns "". Addresses in names are shown with their host's name.
func describeFrame(frame []byte, names naming) string {
	if len(frame) < 14 {
		return ""
	}
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case unix.ETH_P_IP:
		return describeIPv4(frame[14:], names)
	case unix.ETH_P_IPV6:
		return describeIPv6(frame[14:], names)
	}
	return ""
}

// describeARP describes an ARP request or reply: "ARP who-has b 10.0.0.2 tell a 10.0.0.1", "ARP
// b 10.0.0.2 is-at 02:...:01"; for any other frame it returns "".
func describeARP(frame []byte, names map[netip.Addr]string) string {
	if len(frame) < 14+28 || binary.BigEndian.Uint16(frame[12:14]) != unix.ETH_P_ARP {
		return ""
	}
	arp := frame[14:]
	sender, target := netip.AddrFrom4([4]byte(arp[14:18])), netip.AddrFrom4([4]byte(arp[24:28]))
	switch binary.BigEndian.Uint16(arp[6:8]) {
	case 1:
		return fmt.Sprintf("ARP who-has %s tell %s", named(target, names), named(sender, names))
	case 2:
		return fmt.Sprintf("ARP %s is-at %s", named(sender, names), net.HardwareAddr(arp[8:14]))
	}
	return ""
}

// named shows an address with the name of its host, when names has it: "a 10.0.0.1".
func named(a netip.Addr, names map[netip.Addr]string) string {
	if n, ok := names[a]; ok {
		return n + " " + a.String()
	}
	return a.String()
}

// naming is how the wire view names what a frame shows: a lab's hosts by address (nil on lo),
// and the sockets the script named (label) by their address.
type naming struct {
	hosts   map[netip.Addr]string
	sockets *Tracer
}

// namedPort is named with a port, and the name of the socket that has it: "a 10.0.0.1:40000",
// "[fd00::1]:40000", "127.0.0.1:43211 (server)".
func namedPort(a netip.Addr, port uint16, names naming) string {
	ap := netip.AddrPortFrom(a, port)
	text := ap.String()
	host, inLab := names.hosts[a]
	if inLab {
		text = host + " " + text
	}
	// on lo, this machine's sockets; on a lab's LAN, the sockets of the host that has a
	if names.hosts == nil || inLab {
		if name := names.sockets.socketName(host, ap); name != "" {
			text += " (" + name + ")"
		}
	}
	return text
}

// ipv4Header returns the source, destination, protocol and payload of an IPv4 packet.
func ipv4Header(p []byte) (src, dst netip.Addr, proto byte, payload []byte, ok bool) {
	if len(p) < 20 || p[0]>>4 != 4 {
		return
	}
	ihl := int(p[0]&0x0f) * 4
	if ihl < 20 || len(p) < ihl {
		return
	}
	return netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20])), p[9], p[ihl:], true
}

// ipv6Header returns the source, destination, next header and payload of an IPv6 packet.
func ipv6Header(p []byte) (src, dst netip.Addr, proto byte, payload []byte, ok bool) {
	if len(p) < 40 || p[0]>>4 != 6 {
		return
	}
	return netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40])), p[6], p[40:], true
}

// udpPorts returns a UDP header's ports.
func udpPorts(p []byte) (sport, dport uint16, ok bool) {
	if len(p) < 8 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4]), true
}

func describeIPv4(p []byte, names naming) string {
	src, dst, proto, l4, ok := ipv4Header(p)
	if !ok {
		return ""
	}
	switch proto {
	case unix.IPPROTO_UDP:
		return describeUDP(src, dst, l4, names)
	case unix.IPPROTO_ICMP:
		if len(l4) < 8 {
			return ""
		}
		isrc, idst, iproto, inner, ok := ipv4Header(l4[8:])
		if !ok || iproto != unix.IPPROTO_UDP {
			return ""
		}
		return describeICMP("ICMP", icmpName(false, l4[0], l4[1]), src, dst, isrc, idst, inner, names)
	}
	return ""
}

func describeIPv6(p []byte, names naming) string {
	src, dst, proto, l4, ok := ipv6Header(p)
	if !ok {
		return ""
	}
	switch proto {
	case unix.IPPROTO_UDP:
		return describeUDP(src, dst, l4, names)
	case unix.IPPROTO_ICMPV6:
		if len(l4) < 8 || l4[0] >= 128 { // informational messages (echo, neighbour discovery)
			return ""
		}
		isrc, idst, iproto, inner, ok := ipv6Header(l4[8:])
		if !ok || iproto != unix.IPPROTO_UDP {
			return ""
		}
		return describeICMP("ICMP6", icmpName(true, l4[0], l4[1]), src, dst, isrc, idst, inner, names)
	}
	return ""
}

func describeUDP(src, dst netip.Addr, udp []byte, names naming) string {
	sport, dport, ok := udpPorts(udp)
	if !ok {
		return ""
	}
	length := int(binary.BigEndian.Uint16(udp[4:6])) - 8
	data := udp[8:]
	if length >= 0 && length < len(data) {
		data = data[:length]
	}
	return fmt.Sprintf("%s > %s UDP len %d %s", namedPort(src, sport, names), namedPort(dst, dport, names), length, traceData(data))
}

func describeICMP(proto, what string, src, dst, isrc, idst netip.Addr, inner []byte, names naming) string {
	sport, dport, ok := udpPorts(inner)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s > %s %s %s for UDP %s > %s", named(src, names.hosts), named(dst, names.hosts), proto, what,
		namedPort(isrc, sport, names), namedPort(idst, dport, names))
}
