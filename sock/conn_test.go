//go:build linux

package sock

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// unixPair returns the two ends of a connected AF_UNIX datagram socket pair as Conns. A UDP send
// on loopback never waits (the datagram is handed over, or dropped, at once); an AF_UNIX datagram
// send waits while the peer's queue is full, so the pair makes the blocking send real.
func unixPair(t *testing.T) (*Conn, *Conn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newConn(fds[0], unix.AF_UNIX, unix.SOCK_DGRAM, 0, nil), newConn(fds[1], unix.AF_UNIX, unix.SOCK_DGRAM, 0, nil)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// waitParked waits until a call on c has joined the runtime poller: it is about to park, or has.
func waitParked(t *testing.T, c *Conn) {
	t.Helper()
	for deadline := time.Now().Add(testTimeout); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		parked := c.file != nil
		c.mu.Unlock()
		if parked {
			return
		}
	}
	t.Fatal("no call on the socket ever waited")
}

// fill sends on c until the kernel answers EAGAIN, and returns how many datagrams it took.
func fill(t *testing.T, c *Conn) int {
	t.Helper()
	for n := 0; n < 100000; n++ {
		if _, err := c.Send(context.Background(), []byte("x"), unix.MSG_DONTWAIT); errors.Is(err, unix.EAGAIN) {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the peer's queue never filled")
	return 0
}

// A send to a full queue waits on the poller, and completes once the peer reads.
func TestBlockingSendCompletes(t *testing.T) {
	t.Parallel()
	a, b := unixPair(t)
	queued := fill(t, a)
	done := make(chan error, 1)
	go func() {
		_, err := a.Send(context.Background(), []byte("last"), 0)
		done <- err
	}()
	waitParked(t, a)
	select {
	case err := <-done:
		t.Fatalf("Send to a full queue returned without a read: %v", err)
	default:
	}
	buf := make([]byte, 10)
	for i := 0; i < queued; i++ {
		if _, err := b.Recv(context.Background(), buf, 0); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the blocked Send: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("reading the peer's queue did not wake the blocked Send")
	}
	if n, err := b.Recv(context.Background(), buf, 0); err != nil || string(buf[:n]) != "last" {
		t.Fatalf("Recv = %q, %v; want the blocked datagram", buf[:n], err)
	}
}

// A blocked send is woken by its context, and by Close from another goroutine (EBADF).
func TestBlockedSendWokenByContextAndClose(t *testing.T) {
	t.Parallel()
	a, _ := unixPair(t)
	fill(t, a)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := a.Send(ctx, []byte("x"), 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a cancelled context: %v, want context.Canceled", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := a.Send(context.Background(), []byte("x"), 0)
		done <- err
	}()
	waitParked(t, a)
	a.Close()
	select {
	case err := <-done:
		if !errors.Is(err, unix.EBADF) {
			t.Fatalf("Send woken by Close: %v, want EBADF", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close did not wake the blocked Send")
	}
}

// Close from another goroutine wakes a blocked receive with EBADF, and the descriptor is closed
// once the receive has returned.
func TestCloseWakesBlockedReceive(t *testing.T) {
	t.Parallel()
	c, _ := bound(t, unix.AF_INET, "127.0.0.1")
	c.SetReadTimeout(0)
	fd := c.FD()
	done := make(chan error, 1)
	go func() {
		_, err := c.Recv(context.Background(), make([]byte, 10), 0)
		done <- err
	}()
	waitParked(t, c)
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, unix.EBADF) {
			t.Fatalf("blocked Recv after Close: %v, want EBADF", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close did not wake the blocked Recv")
	}
	// (The descriptor number may already belong to another test's socket: ask the file.)
	if c.state.Load() != closedBit || c.file.Fd() != ^uintptr(0) {
		t.Fatalf("fd %d not closed after Close and the last call (state %d)", fd, c.state.Load())
	}
}

// Close racing with calls on other goroutines: every call either works or fails with EBADF,
// the descriptor is closed exactly once, and (under -race) nothing races.
func TestCloseRacesCalls(t *testing.T) {
	t.Parallel()
	for round := 0; round < 20; round++ {
		c, a := bound(t, unix.AF_INET, "127.0.0.1")
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					_, err := c.Sendto(context.Background(), []byte("x"), 0, a)
					if err != nil && !errors.Is(err, unix.EBADF) {
						t.Errorf("Sendto racing Close: %v", err)
						return
					}
					if _, err := c.Getsockname(); err != nil && !errors.Is(err, unix.EBADF) {
						t.Errorf("Getsockname racing Close: %v", err)
						return
					}
				}
			}()
		}
		closeErr := c.Close()
		wg.Wait()
		if closeErr != nil {
			t.Fatalf("Close: %v", closeErr)
		}
		if !c.Closed() {
			t.Fatal("not closed")
		}
	}
}

func TestSetsockoptIfindexAndMembershipV6(t *testing.T) {
	t.Parallel()
	lo, err := InterfaceIndex("lo")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := InterfaceIndex("1"); n != 1 || err != nil {
		t.Fatalf(`InterfaceIndex("1") = %d, %v`, n, err)
	}
	if _, err := InterfaceIndex("no-such-if0"); err == nil {
		t.Fatal("InterfaceIndex of a missing interface: no error")
	}
	c4 := mustSocket(t, unix.AF_INET)
	// IP_UNICAST_IF takes the index in network byte order: a wrong order is refused by the kernel
	// for any index but 0, so a set that works and reads back (in network order) shows the swap.
	if err := c4.SetsockoptIfindex(unix.IPPROTO_IP, unix.IP_UNICAST_IF, lo); err != nil {
		t.Fatalf("IP_UNICAST_IF %d: %v", lo, err)
	}
	if v, err := c4.GetsockoptInt(unix.IPPROTO_IP, unix.IP_UNICAST_IF); err != nil || uint32(v) != uint32(lo)<<24 {
		t.Fatalf("IP_UNICAST_IF reads %#x, %v; want htonl(%d)", v, err, lo)
	}
	c6 := mustSocket(t, unix.AF_INET6)
	if err := c6.SetsockoptIfindex(unix.IPPROTO_IPV6, unix.IPV6_UNICAST_IF, lo); err != nil {
		t.Fatalf("IPV6_UNICAST_IF: %v", err)
	}
	if err := c6.SetsockoptIfindex(unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, lo); err != nil {
		t.Fatalf("IPV6_MULTICAST_IF (host byte order): %v", err)
	}
	group := netip.MustParseAddr("ff02::1:3")
	if err := c6.SetsockoptIPv6Mreq(unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, group, lo); err != nil {
		t.Fatalf("IPV6_JOIN_GROUP: %v", err)
	}
	if err := c6.SetsockoptIPv6Mreq(unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, netip.MustParseAddr("127.0.0.1"), lo); !errors.Is(err, unix.EINVAL) {
		t.Fatalf("IPV6_JOIN_GROUP of an IPv4 address: %v, want EINVAL", err)
	}
}

func TestRecverr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		family       int
		host         string
		level, optno int
		want         string
	}{
		{unix.AF_INET, "127.0.0.1", unix.IPPROTO_IP, unix.IP_RECVERR, "ICMP destination unreachable (type 3), port unreachable (code 3) from 127.0.0.1"},
		{unix.AF_INET6, "::1", unix.IPPROTO_IPV6, unix.IPV6_RECVERR, "ICMPv6 destination unreachable (type 1), port unreachable (code 4) from ::1"},
	} {
		c := mustSocket(t, tc.family)
		if _, err := c.Recverr(); !errors.Is(err, unix.EAGAIN) {
			t.Fatalf("Recverr of an empty queue: %v, want EAGAIN", err)
		}
		if err := c.SetsockoptInt(tc.level, tc.optno, 1); err != nil {
			t.Fatal(err)
		}
		c.Connect(closedPort(t, tc.family, tc.host))
		c.Send(context.Background(), []byte("g1"), 0)
		if ready, err := Poll(context.Background(), []*Conn{c}, testTimeout); err != nil || !ready[0] {
			t.Fatalf("Poll = %v, %v", ready, err)
		}
		e, err := c.Recverr()
		if err != nil {
			t.Fatal(err)
		}
		if e.Errno != unix.ECONNREFUSED || e.Describe() != tc.want || string(e.Payload) != "g1" {
			t.Errorf("Recverr = %v %q %q; want ECONNREFUSED %q g1", e.Errno, e.Describe(), e.Payload, tc.want)
		}
	}
}

func TestICMPNames(t *testing.T) {
	for _, tc := range []struct {
		v6         bool
		typ, code  byte
		name, kind string
	}{
		{false, 3, 3, "port unreachable", "destination unreachable"},
		{false, 3, 9, "destination unreachable (code 9)", "destination unreachable"},
		{false, 11, 0, "time exceeded", "time exceeded"},
		{false, 42, 1, "type 42 code 1", "message"},
		{true, 1, 4, "port unreachable", "destination unreachable"},
		{true, 3, 0, "time exceeded", "time exceeded"},
	} {
		if got := icmpName(tc.v6, tc.typ, tc.code); got != tc.name {
			t.Errorf("icmpName(%v, %d, %d) = %q, want %q", tc.v6, tc.typ, tc.code, got, tc.name)
		}
		if got := icmpTypeName(tc.v6, tc.typ); got != tc.kind {
			t.Errorf("icmpTypeName(%v, %d) = %q, want %q", tc.v6, tc.typ, got, tc.kind)
		}
	}
}
