//go:build linux

package sock

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tracedSocket opens a socket traced by tr.
func tracedSocket(t *testing.T, tr *Tracer, family int) *Conn {
	t.Helper()
	c, err := Socket(family, unix.SOCK_DGRAM, 0, &Config{Tracer: tr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Release() })
	return c
}

// normalize replaces what changes from run to run: descriptors, ports, pointers.
func normalize(s string, fds map[int]string, ports map[int]string) string {
	for fd, name := range fds {
		n := strconv.Itoa(fd)
		s = regexp.MustCompile(`(?m)(\(|fd=)`+n+`\b|= `+n+`$`).ReplaceAllStringFunc(s, func(m string) string {
			return strings.TrimSuffix(m, n) + name
		})
	}
	for port, name := range ports {
		s = regexp.MustCompile(`(htons\(|:)`+strconv.Itoa(port)+`\b`).ReplaceAllString(s, "${1}"+name)
	}
	return regexp.MustCompile(`0x[0-9a-f]+`).ReplaceAllString(s, "PTR")
}

// Every call a traced Conn makes is one line in strace's format; turning the tracer off stops
// the lines, and an untraced Conn never writes any.
func TestTracerLines(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	tr := NewTracer()
	untraced := mustSocket(t, unix.AF_INET)
	tr.Start(&out)
	c := tracedSocket(t, tr, unix.AF_INET)
	peer := tracedSocket(t, tr, unix.AF_INET)
	ctx := context.Background()
	c.Bind(mustAddr(t, "127.0.0.1", 0))
	me, _ := c.Getsockname()
	c.Getpeername()
	c.SetReadTimeout(time.Second)
	c.SetsockoptInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
	c.GetsockoptInt(unix.SOL_SOCKET, unix.SO_ERROR)
	c.SetsockoptInet4Addr(unix.IPPROTO_IP, unix.IP_MULTICAST_IF, netip.MustParseAddr("127.0.0.1"))
	c.GetsockoptInet4Addr(unix.IPPROTO_IP, unix.IP_MULTICAST_IF)
	peer.Sendto(ctx, []byte("hi\n"), 0, me)
	Poll(ctx, []*Conn{c}, time.Second)
	c.Recvfrom(ctx, make([]byte, 10), unix.MSG_PEEK)
	c.Recv(ctx, make([]byte, 10), 0)
	c.Recv(ctx, make([]byte, 10), unix.MSG_DONTWAIT)
	c.Connect(Unspec)
	c.Send(ctx, []byte("x"), 0)
	c.Recverr()
	untraced.SetsockoptInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1)
	peerAddr, _ := peer.LocalAddr()
	peer.Close()
	tr.Stop()
	c.Getsockname()

	got := normalize(out.String(), map[int]string{c.FD(): "C", peer.FD(): "P"}, map[int]string{me.Port(): "ME", peerAddr.Port(): "PEER"})
	meAddr := `{sa_family=AF_INET, sin_port=htons(ME), sin_addr=inet_addr("127.0.0.1")}`
	peerSA := `{sa_family=AF_INET, sin_port=htons(PEER), sin_addr=inet_addr("127.0.0.1")}`
	want := strings.Join([]string{
		`socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = C`,
		`socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = P`,
		`bind(C, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0`,
		`getsockname(C, ` + meAddr + `, [112 => 16]) = 0`,
		`getpeername(C, PTR, [112]) = -1 ENOTCONN (Transport endpoint is not connected)`,
		`setsockopt(C, SOL_SOCKET, SO_RCVTIMEO, {tv_sec=1, tv_usec=0}, 16) = 0`,
		`setsockopt(C, SOL_SOCKET, SO_BROADCAST, [1], 4) = 0`,
		`getsockopt(C, SOL_SOCKET, SO_ERROR, [0], [4]) = 0`,
		`setsockopt(C, SOL_IP, IP_MULTICAST_IF, {s_addr=inet_addr("127.0.0.1")}, 4) = 0`,
		`getsockopt(C, SOL_IP, IP_MULTICAST_IF, {s_addr=inet_addr("127.0.0.1")}, [4]) = 0`,
		`sendto(P, "hi\n", 3, 0, ` + meAddr + `, 16) = 3`,
		`poll([{fd=C, events=POLLIN}], 1, 1000) = 1 ([{fd=C, revents=POLLIN}])`,
		`recvfrom(C, "hi\n", 10, MSG_PEEK, ` + peerSA + `, [112 => 16]) = 3`,
		`recvfrom(C, "hi\n", 10, 0, NULL, NULL) = 3`,
		`recvfrom(C, PTR, 10, MSG_DONTWAIT, NULL, NULL) = -1 EAGAIN (Resource temporarily unavailable)`,
		`connect(C, {sa_family=AF_UNSPEC, sa_data="\0\0\0\0\0\0\0\0\0\0\0\0\0\0"}, 16) = 0`,
		`sendto(C, "x", 1, 0, NULL, 0) = -1 EDESTADDRREQ (Destination address required)`,
		`recvmsg(C, {msg_control=PTR}, MSG_ERRQUEUE) = -1 EAGAIN (Resource temporarily unavailable)`,
		`close(P) = 0`,
		``}, "\n")
	if got != want {
		t.Errorf("trace:\n%s\nwant:\n%s", got, want)
	}
	if tr.On() || (*Tracer)(nil).On() {
		t.Error("a stopped or nil Tracer says it is on")
	}
}

// The wire view on lo: a datagram to a closed port, then the ICMP port unreachable, each printed
// after the call during which it crossed, and only for the tracer's own sockets.
func TestCaptureOnLoopback(t *testing.T) {
	t.Parallel()
	capture, err := OpenCapture("lo")
	if errors.Is(err, unix.EPERM) {
		t.Skipf("capture not permitted here (needs CAP_NET_RAW): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenCapture("no-such-if0"); err == nil {
		t.Error("OpenCapture of a missing interface: no error")
	}
	var out bytes.Buffer
	tr := NewTracer()
	tr.Start(&out)
	tr.AddCapture(capture)
	if !tr.Capturing() {
		t.Fatal("Capturing() is false after AddCapture")
	}
	defer tr.Stop()
	closed := closedPort(t, unix.AF_INET, "127.0.0.1")
	stranger, strangerAddr := bound(t, unix.AF_INET, "127.0.0.1") // untraced: its traffic is not shown
	c := tracedSocket(t, tr, unix.AF_INET)
	c.Connect(closed)
	me, _ := c.LocalAddr()
	stranger.Sendto(context.Background(), []byte("not mine"), 0, strangerAddr)
	c.Send(context.Background(), []byte("g1"), 0)
	tr.Flush()
	got := normalize(out.String(), map[int]string{c.FD(): "C"}, map[int]string{me.Port(): "ME", closed.Port(): "CLOSED"})
	want := `socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = C
connect(C, {sa_family=AF_INET, sin_port=htons(CLOSED), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
sendto(C, "g1", 2, 0, NULL, 0) = 2
127.0.0.1:ME > 127.0.0.1:CLOSED UDP len 2 "g1"
127.0.0.1 > 127.0.0.1 ICMP port unreachable for UDP 127.0.0.1:ME > 127.0.0.1:CLOSED
`
	if got != want {
		t.Errorf("wire view:\n%s\nwant:\n%s", got, want)
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{FamilyName(unix.AF_INET6), "AF_INET6"},
		{FamilyName(12345), "12345"},
		{TypeName(unix.SOCK_DGRAM), "SOCK_DGRAM"},
		{LevelName(unix.IPPROTO_IPV6), "IPPROTO_IPV6"},
		{straceLevel(unix.IPPROTO_IP), "SOL_IP"},
		{straceLevel(unix.SOL_SOCKET), "SOL_SOCKET"},
		{traceFlags(unix.MSG_PEEK | unix.MSG_DONTWAIT | 0x10000000), "MSG_PEEK|MSG_DONTWAIT|0x10000000"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if o, ok := OptionByName("IP_UNICAST_IF"); !ok || o.Kind != KindIfindex {
		t.Errorf("OptionByName(IP_UNICAST_IF) = %+v, %v", o, ok)
	}
	if _, ok := LookupOption(unix.SOL_SOCKET, 12345); ok {
		t.Error("LookupOption found an option udplab does not know")
	}
}

// Other traffic on lo does not push the script's packets out of the wire view: while another
// socket floods lo, every datagram of the traced socket and its ICMP error are shown, or the
// view says how many the capture lost. (Not parallel: the flood would fill the other tests'
// captures.)
func TestCaptureUnderOtherTraffic(t *testing.T) {
	capture, err := OpenCapture("lo")
	if errors.Is(err, unix.EPERM) {
		t.Skipf("capture not permitted here (needs CAP_NET_RAW): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	tr := NewTracer()
	tr.Start(&out)
	tr.AddCapture(capture)
	defer tr.Stop()

	sink, sinkAddr := bound(t, unix.AF_INET, "127.0.0.1")
	_ = sink
	flooder := mustSocket(t, unix.AF_INET)
	stop := make(chan struct{})
	var flooded atomic.Int64
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		payload := make([]byte, 512)
		for flooded.Load() < 200_000 {
			select {
			case <-stop:
				return
			default:
			}
			flooder.Sendto(context.Background(), payload, 0, sinkAddr)
			flooded.Add(1)
		}
	}()
	for flooded.Load() < 5000 { // the flood is under way before the traced sends start
		time.Sleep(time.Millisecond)
	}
	const sends = 200
	closed := closedPort(t, unix.AF_INET, "127.0.0.1")
	c := tracedSocket(t, tr, unix.AF_INET)
	for i := 0; i < sends; i++ {
		c.Sendto(context.Background(), []byte("mine"), 0, closed)
		if i%20 == 0 {
			time.Sleep(time.Millisecond) // the flood runs between the sends too
		}
	}
	close(stop)
	<-finished
	n := flooded.Load()
	tr.Flush()
	got := out.String()
	udp := strings.Count(got, `UDP len 4 "mine"`)
	icmp := strings.Count(got, "ICMP port unreachable")
	t.Logf("%d datagrams flooded lo meanwhile; the view shows %d of %d datagrams and %d ICMP errors", n, udp, sends, icmp)
	if strings.Contains(got, "UDP len 512") {
		t.Errorf("the view shows the flood, which is no traced socket's")
	}
	if (udp != sends || icmp != sends) && !strings.Contains(got, "packets dropped by the capture") {
		t.Errorf("the view lost packets without saying so: %d of %d datagrams, %d ICMP errors", udp, sends, icmp)
	}
}
