//go:build linux

package sock

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testTimeout bounds every blocking receive in these tests: generous, so that it holds on a
// loaded machine and under -race; a working receive on loopback returns in microseconds.
const testTimeout = 10 * time.Second

func mustSocket(t *testing.T, family int) *Conn {
	t.Helper()
	c, err := Socket(family, unix.SOCK_DGRAM, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetReadTimeout(testTimeout); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustAddr(t *testing.T, host string, port int) *Addr {
	t.Helper()
	a, err := ParseAddr(host, port)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// bound returns a socket bound to host on an ephemeral port, and its address.
func bound(t *testing.T, family int, host string) (*Conn, *Addr) {
	t.Helper()
	c := mustSocket(t, family)
	if err := c.Bind(mustAddr(t, host, 0)); err != nil {
		t.Fatal(err)
	}
	a, err := c.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	return c, a
}

// closedPort returns an address on host whose port nothing is bound to (bound, then released).
func closedPort(t *testing.T, family int, host string) *Addr {
	t.Helper()
	c, a := bound(t, family, host)
	c.Close()
	return a
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		family int
		host   string
	}{{unix.AF_INET, "127.0.0.1"}, {unix.AF_INET6, "::1"}} {
		srv, srvAddr := bound(t, tc.family, tc.host)
		cli, cliAddr := bound(t, tc.family, tc.host)
		ctx := context.Background()
		if err := cli.Connect(srvAddr); err != nil {
			t.Fatal(err)
		}
		if n, err := cli.Send(ctx, []byte("g1"), 0); n != 2 || err != nil {
			t.Fatalf("Send = %d, %v", n, err)
		}
		buf := make([]byte, 100)
		n, from, err := srv.Recvfrom(ctx, buf, 0)
		if err != nil || string(buf[:n]) != "g1" || from.String() != cliAddr.String() {
			t.Fatalf("Recvfrom = %q, %v, %v; want g1 from %v", buf[:n], from, err, cliAddr)
		}
		if _, err := srv.Sendto(ctx, []byte("Hi, g1"), 0, from); err != nil {
			t.Fatal(err)
		}
		if n, err := cli.Recv(ctx, buf, 0); err != nil || string(buf[:n]) != "Hi, g1" {
			t.Fatalf("Recv = %q, %v", buf[:n], err)
		}
		peer, err := cli.Getpeername()
		if err != nil || peer.String() != srvAddr.String() {
			t.Fatalf("Getpeername = %v, %v; want %v", peer, err, srvAddr)
		}
	}
}

func TestZeroLengthDatagramIsData(t *testing.T) {
	t.Parallel()
	srv, srvAddr := bound(t, unix.AF_INET, "127.0.0.1")
	cli := mustSocket(t, unix.AF_INET)
	ctx := context.Background()
	if n, err := cli.Sendto(ctx, nil, 0, srvAddr); n != 0 || err != nil {
		t.Fatalf("Sendto empty = %d, %v", n, err)
	}
	n, from, err := srv.Recvfrom(ctx, make([]byte, 10), 0)
	if n != 0 || err != nil || from.Family() != unix.AF_INET {
		t.Fatalf("Recvfrom = %d, %v, %v; want an empty datagram", n, from, err)
	}
}

func TestConnectionRefusedReportedOnce(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"127.0.0.1", "::1"} {
		family := unix.AF_INET
		if host == "::1" {
			family = unix.AF_INET6
		}
		cli := mustSocket(t, family)
		if err := cli.SetReadTimeout(200 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if err := cli.Connect(closedPort(t, family, host)); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := cli.Send(ctx, []byte("g1"), 0); err != nil {
			t.Fatalf("Send: %v", err)
		}
		buf := make([]byte, 10)
		_, err := cli.Recv(ctx, buf, 0)
		if !errors.Is(err, unix.ECONNREFUSED) {
			t.Fatalf("first Recv: %v, want ECONNREFUSED", err)
		}
		_, err = cli.Recv(ctx, buf, 0)
		if !errors.Is(err, unix.EAGAIN) {
			t.Fatalf("second Recv: %v, want EAGAIN (the error is reported once)", err)
		}
	}
}

func TestUnconnectedGetsNoRefusal(t *testing.T) {
	t.Parallel()
	cli := mustSocket(t, unix.AF_INET)
	cli.SetReadTimeout(200 * time.Millisecond)
	ctx := context.Background()
	if _, err := cli.Sendto(ctx, []byte("g1"), 0, closedPort(t, unix.AF_INET, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err := cli.Recvfrom(ctx, make([]byte, 10), 0)
	if !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("Recvfrom: %v, want EAGAIN after the timeout", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("Recvfrom returned after %v, before its 200ms timeout", d)
	}
}

func TestDisconnect(t *testing.T) {
	t.Parallel()
	_, srvAddr := bound(t, unix.AF_INET, "127.0.0.1")
	cli := mustSocket(t, unix.AF_INET)
	if err := cli.Connect(srvAddr); err != nil {
		t.Fatal(err)
	}
	if err := cli.Connect(Unspec); err != nil {
		t.Fatalf("Connect(Unspec): %v", err)
	}
	if _, err := cli.Getpeername(); !errors.Is(err, unix.ENOTCONN) {
		t.Fatalf("Getpeername after disconnect: %v, want ENOTCONN", err)
	}
	_, err := cli.Send(context.Background(), []byte("x"), 0)
	if !errors.Is(err, unix.EDESTADDRREQ) {
		t.Fatalf("Send after disconnect: %v, want EDESTADDRREQ", err)
	}
	var se interface{ Unwrap() error }
	if !errors.As(err, &se) || err.Error() != "send: destination address required" {
		t.Fatalf("error %q is not the *os.SyscallError of send", err)
	}
}

func TestCancelBlockedReceive(t *testing.T) {
	t.Parallel()
	c, _ := bound(t, unix.AF_INET, "127.0.0.1")
	c.SetReadTimeout(0)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := c.Recv(ctx, make([]byte, 10), 0)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Recv: %v, want context.Canceled", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("cancelling the context did not wake the blocked Recv")
	}
	// The socket still works after the cancelled wait.
	c.SetReadTimeout(100 * time.Millisecond)
	if _, err := c.Recv(context.Background(), make([]byte, 10), 0); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("Recv after cancel: %v, want EAGAIN", err)
	}
}

func TestDontWait(t *testing.T) {
	t.Parallel()
	c, _ := bound(t, unix.AF_INET, "127.0.0.1")
	start := time.Now()
	_, err := c.Recv(context.Background(), make([]byte, 10), unix.MSG_DONTWAIT)
	if !errors.Is(err, unix.EAGAIN) || time.Since(start) > time.Second {
		t.Fatalf("Recv(MSG_DONTWAIT) = %v after %v, want EAGAIN at once", err, time.Since(start))
	}
}

func TestUseAfterClose(t *testing.T) {
	t.Parallel()
	c, a := bound(t, unix.AF_INET, "127.0.0.1")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, err := range map[string]error{
		"Close":    c.Close(),
		"Bind":     c.Bind(a),
		"Connect":  c.Connect(a),
		"Send":     second(c.Send(ctx, []byte("x"), 0)),
		"Sendto":   second(c.Sendto(ctx, []byte("x"), 0, a)),
		"Recv":     second(c.Recv(ctx, make([]byte, 1), 0)),
		"Getsock":  second(c.Getsockname()),
		"Setsock":  c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1),
		"Poll":     second(Poll(ctx, []*Conn{c}, 0)),
		"Timeout":  c.SetReadTimeout(time.Second),
		"Recvfrom": third(c.Recvfrom(ctx, make([]byte, 1), 0)),
	} {
		if !errors.Is(err, unix.EBADF) {
			t.Errorf("%s after Close: %v, want EBADF", name, err)
		}
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

func TestBroadcastNeedsSO_BROADCAST(t *testing.T) {
	t.Parallel()
	c := mustSocket(t, unix.AF_INET)
	bcast := mustAddr(t, "255.255.255.255", 9)
	if err := c.Connect(bcast); !errors.Is(err, unix.EACCES) {
		t.Skipf("connect to 255.255.255.255 without SO_BROADCAST: %v (no broadcast route here?)", err)
	}
	if err := c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
		t.Fatal(err)
	}
	if v, err := c.GetsockoptInt(unix.SOL_SOCKET, unix.SO_BROADCAST); v != 1 || err != nil {
		t.Fatalf("GetsockoptInt(SO_BROADCAST) = %d, %v", v, err)
	}
	if err := c.Connect(bcast); err != nil {
		t.Fatalf("connect with SO_BROADCAST: %v", err)
	}
}

func TestSOErrorClearsPendingError(t *testing.T) {
	t.Parallel()
	c := mustSocket(t, unix.AF_INET)
	c.SetReadTimeout(100 * time.Millisecond)
	c.Connect(closedPort(t, unix.AF_INET, "127.0.0.1"))
	c.Send(context.Background(), []byte("x"), 0)
	// The ICMP error arrives during the send on loopback; poll to be sure it is there.
	if ready, err := Poll(context.Background(), []*Conn{c}, testTimeout); err != nil || !ready[0] {
		t.Fatalf("Poll = %v, %v; want readable (pending error)", ready, err)
	}
	if v, err := c.GetsockoptInt(unix.SOL_SOCKET, unix.SO_ERROR); v != int(unix.ECONNREFUSED) || err != nil {
		t.Fatalf("SO_ERROR = %d, %v; want 111", v, err)
	}
	if _, err := c.Recv(context.Background(), make([]byte, 1), 0); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("Recv after SO_ERROR: %v, want EAGAIN (error cleared)", err)
	}
}

func TestPoll(t *testing.T) {
	t.Parallel()
	a, aAddr := bound(t, unix.AF_INET, "127.0.0.1")
	b, _ := bound(t, unix.AF_INET, "127.0.0.1")
	ctx := context.Background()
	ready, err := Poll(ctx, []*Conn{a, b}, 0)
	if err != nil || ready[0] || ready[1] {
		t.Fatalf("Poll before any datagram = %v, %v", ready, err)
	}
	b.Sendto(ctx, []byte("x"), 0, aAddr)
	ready, err = Poll(ctx, []*Conn{a, b}, testTimeout)
	if err != nil || !ready[0] || ready[1] {
		t.Fatalf("Poll = %v, %v; want [true false]", ready, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	if _, err := Poll(cctx, []*Conn{b}, -1); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("Poll with a cancelled context = %v after %v", err, time.Since(start))
	}
}

func TestMulticastMembership(t *testing.T) {
	t.Parallel()
	c, _ := bound(t, unix.AF_INET, "0.0.0.0")
	group := netip.MustParseAddr("239.1.2.3")
	lo := netip.MustParseAddr("127.0.0.1")
	if err := c.SetsockoptMreqn(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, group, lo, 0); err != nil {
		t.Fatalf("IP_ADD_MEMBERSHIP: %v", err)
	}
	if err := c.SetsockoptMreqn(unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, group, lo, 0); !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("joining twice: %v, want EADDRINUSE", err)
	}
	if err := c.SetsockoptInet4Addr(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, lo); err != nil {
		t.Fatal(err)
	}
	if ip, err := c.GetsockoptInet4Addr(unix.IPPROTO_IP, unix.IP_MULTICAST_IF); ip != lo || err != nil {
		t.Fatalf("IP_MULTICAST_IF = %v, %v", ip, err)
	}
}

// A Poller over many sockets (an epoll set kept between calls) answers as poll(2) does: the
// readable ones (data or a pending error), none at a timeout, EBADF for a closed one, the new list
// when it changes, and a socket listed twice ready twice.
func TestPollerManySockets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var conns []*Conn
	var addrs []*Addr
	for i := 0; i < epollMin+6; i++ {
		c, a := bound(t, unix.AF_INET, "127.0.0.1")
		conns, addrs = append(conns, c), append(addrs, a)
	}
	var p Poller
	defer p.Close()
	check := func(list []*Conn, timeout time.Duration, want ...int) {
		t.Helper()
		ready, err := p.Poll(ctx, list, timeout)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for i, r := range ready {
			if r {
				got = append(got, i)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("ready %v, want %v", got, want)
		}
	}
	check(conns, 0)
	conns[0].Sendto(ctx, []byte("x"), 0, addrs[5])
	conns[0].Sendto(ctx, []byte("x"), 0, addrs[len(addrs)-1])
	check(conns, testTimeout, 5, len(conns)-1)
	if p.epfd <= 0 {
		t.Fatal("no epoll set for a long list")
	}
	conns[5].Recv(ctx, make([]byte, 8), 0)
	check(conns, testTimeout, len(conns)-1)
	// a pending error makes a socket ready too
	conns[7].Connect(mustAddr(t, "127.0.0.1", 9))
	conns[7].Send(ctx, []byte("x"), 0)
	check(conns, testTimeout, 7, len(conns)-1)
	// another list: the set is made again
	reversed := slices.Clone(conns)
	slices.Reverse(reversed)
	check(reversed, testTimeout, 0, len(conns)-1-7)
	// the same socket twice: poll(2) answers, twice
	twice := append(slices.Clone(conns[:epollMin]), conns[len(conns)-1], conns[len(conns)-1])
	check(twice, testTimeout, 7, epollMin, epollMin+1)
	conns[3].Close()
	if _, err := p.Poll(ctx, conns, 0); !errors.Is(err, unix.EBADF) {
		t.Fatalf("a closed socket in the list: %v, want EBADF", err)
	}
}
