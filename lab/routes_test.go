package lab

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// A datagram crosses a chain of 16 LANs end to end, both ways and from the middle, over IPv4 and
// IPv6, through every router between: it arrives with its TTL (hop limit) lowered by one per
// router, from 64, as on any routed network.
func TestChainOfLANs(t *testing.T) {
	t.Parallel()
	spec := chainPlan(t)
	n, err := Start(spec)
	if err != nil {
		t.Skipf("no lab here: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	for _, c := range []struct {
		from, to string
		routers  int
	}{{"a", "z", 15}, {"z", "a", 15}, {"m", "z", 8}, {"m", "a", 7}, {"z", "m", 8}} {
		for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
			if ttl := crossing(t, n, c.from, c.to, family); ttl != 64-c.routers {
				t.Errorf("%s to %s (family %d): TTL %d, want %d (64 less %d routers)", c.from, c.to, family, ttl, 64-c.routers, c.routers)
			}
		}
	}
}

// crossing sends a datagram from host from to host to and returns the TTL (IPv4) or hop limit
// (IPv6) it arrived with.
func crossing(t *testing.T, n *Network, from, to string, family int) int {
	t.Helper()
	var dst netip.Addr
	for _, h := range n.Spec.Hosts {
		if h.Name == to {
			dst = h.Addr4[0]
			if family == unix.AF_INET6 {
				dst = h.Addr6[0]
			}
		}
	}
	open := func(host string) int {
		fd, err := n.Socket(host, family, unix.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sock.CloseFD(fd) })
		return fd
	}
	rfd, sfd := open(to), open(from)
	level, opt, cmsgType := unix.IPPROTO_IP, unix.IP_RECVTTL, unix.IP_TTL
	var any unix.Sockaddr = &unix.SockaddrInet4{}
	dsa := func(port int) unix.Sockaddr { return &unix.SockaddrInet4{Port: port, Addr: dst.As4()} }
	if family == unix.AF_INET6 {
		level, opt, cmsgType = unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, unix.IPV6_HOPLIMIT
		any = &unix.SockaddrInet6{}
		dsa = func(port int) unix.Sockaddr { return &unix.SockaddrInet6{Port: port, Addr: dst.As16()} }
	}
	if err := unix.SetsockoptInt(rfd, level, opt, 1); err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(rfd, any); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(rfd)
	if err != nil {
		t.Fatal(err)
	}
	port := 0
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		port = a.Port
	case *unix.SockaddrInet6:
		port = a.Port
	}
	if err := unix.Sendto(sfd, []byte("across"), 0, dsa(port)); err != nil {
		t.Fatalf("%s to %s: %v", from, to, err)
	}
	fds := []unix.PollFd{{Fd: int32(rfd), Events: unix.POLLIN}}
	if k, err := unix.Poll(fds, int((10 * time.Second).Milliseconds())); err != nil || k != 1 {
		t.Fatalf("%s to %s: nothing came in 10 s (%v)", from, to, err)
	}
	buf, oob := make([]byte, 64), make([]byte, 64)
	_, oobn, _, _, err := unix.Recvmsg(rfd, buf, oob, 0)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Header.Level == int32(level) && m.Header.Type == int32(cmsgType) && len(m.Data) >= 4 {
			return int(binary.NativeEndian.Uint32(m.Data))
		}
	}
	t.Fatalf("%s to %s: no TTL came with the datagram", from, to)
	return 0
}
