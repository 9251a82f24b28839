//go:build linux

package sock

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync"
	"syscall"

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
// line, the frames that crossed since and belong to one of the Tracer's Conns.
type Capture struct {
	file  *os.File
	rc    syscall.RawConn
	owner *Tracer // whose sockets' frames are kept, and who is told when some arrive

	mu      sync.Mutex // guards the fields below
	buf     []byte
	queue   []frame // frames not printed yet, in the order they crossed
	dropped int     // frames lost by this queue
	done    chan struct{}
}

// frame is a captured frame of one of the owner's sockets, described.
type frame struct {
	line string
}

const (
	// captureBuffer is the capture socket's receive buffer: about 20,000 small frames.
	captureBuffer = 8 << 20
	// maxQueued bounds the frames kept between two call lines.
	maxQueued = 10000
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// captureFilter is the classic BPF program the kernel runs on each frame: keep the incoming
// copies of UDP datagrams and ICMP (v4) or ICMPv6 error messages, over IPv4 or IPv6.
var captureFilter = []unix.SockFilter{
	/* 0 */ {Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0xfffff000 + 4}, // SKF_AD_OFF + SKF_AD_PKTTYPE
	/* 1 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.PACKET_OUTGOING, Jt: 11},
	/* 2 */ {Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 12}, // ethertype
	/* 3 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.ETH_P_IP, Jf: 3},
	/* 4 */ {Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 14 + 9}, // IPv4 protocol
	/* 5 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.IPPROTO_UDP, Jt: 8},
	/* 6 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.IPPROTO_ICMP, Jt: 7, Jf: 6},
	/* 7 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.ETH_P_IPV6, Jf: 5},
	/* 8 */ {Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 14 + 6}, // IPv6 next header
	/* 9 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.IPPROTO_UDP, Jt: 4},
	/* 10 */ {Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.IPPROTO_ICMPV6, Jf: 2},
	/* 11 */ {Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 14 + 40}, // ICMPv6 type: errors are below 128
	/* 12 */ {Code: unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, K: 128, Jf: 1},
	/* 13 */ {Code: unix.BPF_RET | unix.BPF_K, K: 0},
	/* 14 */ {Code: unix.BPF_RET | unix.BPF_K, K: 0xffff},
}

// OpenCapture opens a capture on the interface called ifname ("lo"). Capturing needs CAP_NET_RAW:
// without it OpenCapture fails with EPERM.
func OpenCapture(ifname string) (*Capture, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	fail := func(err error) (*Capture, error) {
		unix.Close(fd)
		return nil, err
	}
	// The interface's index, asked on the capture's own socket: no other descriptor is needed.
	ifr, err := unix.NewIfreq(ifname)
	if err == nil {
		err = unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr)
	}
	if err != nil {
		return fail(fmt.Errorf("no interface %q: %w", ifname, err))
	}
	prog := unix.SockFprog{Len: uint16(len(captureFilter)), Filter: &captureFilter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		return fail(os.NewSyscallError("setsockopt", err))
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, captureBuffer) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, captureBuffer) // unprivileged: as large as allowed
	}
	// Bound only now, with the filter on: no unfiltered frame is queued before.
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: int(ifr.Uint32())}); err != nil {
		return fail(os.NewSyscallError("bind", err))
	}
	file := os.NewFile(uintptr(fd), "capture:"+ifname)
	rc, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, err
	}
	return &Capture{file: file, rc: rc, buf: make([]byte, 1<<16+256), done: make(chan struct{})}, nil
}

// start begins reading in the background, for owner.
func (c *Capture) start(owner *Tracer) {
	c.owner = owner
	go func() {
		defer close(c.done)
		c.rc.Read(func(fd uintptr) bool {
			if c.readAll() > 0 {
				owner.framesArrived()
			}
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

// readAll reads every frame the kernel holds now, queues those of the owner's sockets and
// returns how many it queued.
func (c *Capture) readAll() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := 0
	c.rc.Control(func(fd uintptr) {
		for {
			var n int
			var from unix.Sockaddr
			err := ignoringEINTR(func() (err error) {
				n, from, err = unix.Recvfrom(int(fd), c.buf, unix.MSG_DONTWAIT)
				return err
			})
			if err != nil {
				return
			}
			if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
				continue
			}
			sport, dport, ok := framePorts(c.buf[:n])
			if !ok || !c.owner.owns(sport, dport) {
				continue // another program's traffic: not even described
			}
			f := frame{line: describeFrame(c.buf[:n], func(uint16, uint16) bool { return true })}
			kept++
			c.enqueue(f)
		}
	})
	return kept
}

// enqueue adds f, or counts it lost when the queue is full; c.mu is held.
func (c *Capture) enqueue(f frame) {
	if len(c.queue) >= maxQueued {
		c.dropped++
		return
	}
	c.queue = append(c.queue, f)
}

// drain reads what the kernel holds, then prints the queued frames, and how many were lost.
func (c *Capture) drain(out io.Writer) {
	c.readAll()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.queue {
		io.WriteString(out, f.line+"\n")
	}
	c.queue = c.queue[:0]
	lost := c.dropped
	c.dropped = 0
	c.rc.Control(func(fd uintptr) {
		if st, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			lost += int(st.Drops) // reading the statistics resets them
		}
	})
	if lost > 0 {
		fmt.Fprintf(out, "-- %d packets dropped by the capture\n", lost)
	}
}

// framePorts returns the UDP ports a frame is about: a datagram's, or those of the datagram an
// ICMP error quotes.
func framePorts(frame []byte) (sport, dport uint16, ok bool) {
	if len(frame) < 14 {
		return 0, 0, false
	}
	var proto byte
	var l4 []byte
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case unix.ETH_P_IP:
		_, _, proto, l4, ok = ipv4Header(frame[14:])
		if ok && proto == unix.IPPROTO_ICMP && len(l4) >= 8 {
			_, _, proto, l4, ok = ipv4Header(l4[8:])
		}
	case unix.ETH_P_IPV6:
		_, _, proto, l4, ok = ipv6Header(frame[14:])
		if ok && proto == unix.IPPROTO_ICMPV6 && len(l4) >= 8 {
			_, _, proto, l4, ok = ipv6Header(l4[8:])
		}
	}
	if !ok || proto != unix.IPPROTO_UDP {
		return 0, 0, false
	}
	return udpPorts(l4)
}

// describeFrame describes an Ethernet frame captured on lo when it carries UDP that keep wants,
// or an ICMP error about such a datagram; else it returns "".
func describeFrame(frame []byte, keep func(sport, dport uint16) bool) string {
	if len(frame) < 14 {
		return ""
	}
	switch binary.BigEndian.Uint16(frame[12:14]) {
	case unix.ETH_P_IP:
		return describeIPv4(frame[14:], keep)
	case unix.ETH_P_IPV6:
		return describeIPv6(frame[14:], keep)
	}
	return ""
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

func describeIPv4(p []byte, keep func(sport, dport uint16) bool) string {
	src, dst, proto, l4, ok := ipv4Header(p)
	if !ok {
		return ""
	}
	switch proto {
	case unix.IPPROTO_UDP:
		return describeUDP(src, dst, l4, keep)
	case unix.IPPROTO_ICMP:
		if len(l4) < 8 {
			return ""
		}
		isrc, idst, iproto, inner, ok := ipv4Header(l4[8:])
		if !ok || iproto != unix.IPPROTO_UDP {
			return ""
		}
		return describeICMP("ICMP", icmpName(false, l4[0], l4[1]), src, dst, isrc, idst, inner, keep)
	}
	return ""
}

func describeIPv6(p []byte, keep func(sport, dport uint16) bool) string {
	src, dst, proto, l4, ok := ipv6Header(p)
	if !ok {
		return ""
	}
	switch proto {
	case unix.IPPROTO_UDP:
		return describeUDP(src, dst, l4, keep)
	case unix.IPPROTO_ICMPV6:
		if len(l4) < 8 || l4[0] >= 128 { // informational messages (echo, neighbour discovery)
			return ""
		}
		isrc, idst, iproto, inner, ok := ipv6Header(l4[8:])
		if !ok || iproto != unix.IPPROTO_UDP {
			return ""
		}
		return describeICMP("ICMP6", icmpName(true, l4[0], l4[1]), src, dst, isrc, idst, inner, keep)
	}
	return ""
}

func describeUDP(src, dst netip.Addr, udp []byte, keep func(sport, dport uint16) bool) string {
	sport, dport, ok := udpPorts(udp)
	if !ok || !keep(sport, dport) {
		return ""
	}
	length := int(binary.BigEndian.Uint16(udp[4:6])) - 8
	data := udp[8:]
	if length >= 0 && length < len(data) {
		data = data[:length]
	}
	return fmt.Sprintf("%s > %s UDP len %d %s", netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport), length, traceData(data))
}

func describeICMP(proto, what string, src, dst, isrc, idst netip.Addr, inner []byte, keep func(sport, dport uint16) bool) string {
	sport, dport, ok := udpPorts(inner)
	if !ok || !keep(sport, dport) {
		return ""
	}
	return fmt.Sprintf("%s > %s %s %s for UDP %s > %s", src, dst, proto, what,
		netip.AddrPortFrom(isrc, sport), netip.AddrPortFrom(idst, dport))
}
