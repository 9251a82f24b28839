package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// The lab's claims about the kernel, each checked against the same experiment on a plain LAN
// that the test builds itself with iproute2 (ip netns, a bridge, veth pairs), the way a reader
// would build one by hand: the two must give the same answers, call for call.

func TestMain(m *testing.M) {
	RunHelperIfAsked() // Start runs this test binary as the lab's helper
	os.Exit(m.Run())
}

// testbed is a LAN an experiment runs on: it opens sockets in its hosts, and plugs a host out.
type testbed interface {
	socket(t *testing.T, host string, family int) *sock.Conn
	down(t *testing.T, host string)
	impair(t *testing.T, host string, loss float64)
	addr(host string, family int) string
}

// labBed is udplab's lab.
type labBed struct {
	n *Network
}

func startLab(t *testing.T, names []string, ratelimit *int) *labBed {
	t.Helper()
	spec, err := OneLAN(names)
	if err != nil {
		t.Fatal(err)
	}
	spec.ICMPRateLimit = ratelimit
	return startSpec(t, spec)
}

// startSpec starts the lab spec, closed when the test ends.
func startSpec(t *testing.T, spec *Spec) *labBed {
	t.Helper()
	n, err := Start(spec)
	if err != nil {
		t.Skipf("no lab here: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return &labBed{n}
}

func (b *labBed) socket(t *testing.T, host string, family int) *sock.Conn {
	t.Helper()
	fd, err := b.n.Socket(host, family, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := sock.Adopt(fd, host, family, unix.SOCK_DGRAM, 0, nil)
	t.Cleanup(func() { c.Close() })
	return c
}

func (b *labBed) down(t *testing.T, host string) {
	if err := b.n.Down(host); err != nil {
		t.Fatal(err)
	}
}

func (b *labBed) impair(t *testing.T, host string, loss float64) {
	if err := b.n.Impair(host, Impairment{Loss: loss}); err != nil {
		t.Fatal(err)
	}
}

func (b *labBed) addr(host string, family int) string {
	for _, h := range b.n.Spec.Hosts {
		if h.Name == host && family == unix.AF_INET6 {
			return h.Addr6[0].String()
		} else if h.Name == host {
			return h.Addr4[0].String()
		}
	}
	return ""
}

// plainBed is a LAN built as a reader would build one: a namespace with a bridge, a namespace
// per host joined to it by a veth pair, addresses 10.0.0.1, .2, ... /24, and, when gateway is
// set, a default route through 10.0.0.254, which nobody holds.
type plainBed struct {
	prefix string // of the namespaces' names
	hosts  []string
}

var plainBeds atomic.Int32

// ipCmd runs ip with args, failing t when it fails.
func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func startPlain(t *testing.T, names []string, gateway bool) *plainBed {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("building a plain LAN with ip netns needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (iproute2)")
	}
	b := &plainBed{prefix: fmt.Sprintf("udplabt%d-%d-", os.Getpid(), plainBeds.Add(1)), hosts: names}
	sw := b.prefix + "sw"
	ipCmd(t, "netns", "add", sw)
	t.Cleanup(func() {
		for _, h := range append([]string{"sw"}, names...) {
			exec.Command("ip", "netns", "del", b.prefix+h).Run()
		}
	})
	ipCmd(t, "-n", sw, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	ipCmd(t, "-n", sw, "link", "set", "br0", "up")
	for i, h := range names {
		ns := b.prefix + h
		ipCmd(t, "netns", "add", ns)
		ipCmd(t, "-n", ns, "link", "set", "lo", "up")
		port := "p" + h
		ipCmd(t, "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
		ipCmd(t, "-n", sw, "link", "set", port, "master", "br0", "up")
		ipCmd(t, "-n", ns, "addr", "add", fmt.Sprintf("10.0.0.%d/24", i+1), "broadcast", "10.0.0.255", "dev", "eth0")
		ipCmd(t, "-n", ns, "addr", "add", fmt.Sprintf("fd00::%x/64", i+1), "dev", "eth0", "nodad")
		ipCmd(t, "-n", ns, "link", "set", "eth0", "up")
		if gateway {
			ipCmd(t, "-n", ns, "route", "add", "default", "via", "10.0.0.254")
		}
	}
	// Wait until every port forwards, as the lab does.
	for _, h := range names {
		for _, at := range [][]string{{sw, "p" + h}, {b.prefix + h, "eth0"}} {
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
				out, _ := exec.Command("ip", "-n", at[0], "-o", "link", "show", at[1]).Output()
				if strings.Contains(string(out), "state UP") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s in %s never came up: %s", at[1], at[0], out)
				}
			}
		}
	}
	return b
}

func (b *plainBed) socket(t *testing.T, host string, family int) *sock.Conn {
	t.Helper()
	ns, err := os.Open("/run/netns/" + b.prefix + host)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	fd, err := sock.OpenIn(int(ns.Fd()), family, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := sock.Adopt(fd, host, family, unix.SOCK_DGRAM, 0, nil)
	t.Cleanup(func() { c.Close() })
	return c
}

func (b *plainBed) down(t *testing.T, host string) {
	ipCmd(t, "-n", b.prefix+"sw", "link", "set", "p"+host, "down")
}

func (b *plainBed) impair(t *testing.T, host string, loss float64) {
	t.Fatal("the plain LAN loses nothing")
}

func (b *plainBed) addr(host string, family int) string {
	for i, h := range b.hosts {
		if h == host && family == unix.AF_INET6 {
			return fmt.Sprintf("fd00::%x", i+1)
		} else if h == host {
			return fmt.Sprintf("10.0.0.%d", i+1)
		}
	}
	return ""
}

// sysctl sets a net sysctl in host's namespace of the plain LAN.
func (b *plainBed) sysctl(t *testing.T, host, name, value string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "exec", b.prefix+host, "sysctl", "-q", "-w", name+"="+value).CombinedOutput(); err != nil {
		t.Fatalf("sysctl %s: %v: %s", name, err, out)
	}
}

// outcome is what one call gave: "ok", the bytes, or the errno's name.
func outcome(n int, err error) string {
	if err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			return sock.ErrnoName(errno)
		}
		return err.Error()
	}
	return fmt.Sprint(n)
}

func mustAddr(t *testing.T, host string, port int) *sock.Addr {
	t.Helper()
	a, err := sock.NewAddr(netip.AddrPortFrom(netip.MustParseAddr(host), uint16(port)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// refusals sends one datagram from each of n sockets on a to a closed port on b, as fast as it
// can, and counts the sockets that then hold ECONNREFUSED: how many ICMP port unreachable errors
// b sent back.
func refusals(t *testing.T, b testbed, family, n int) int {
	to := b.addr("b", family)
	ctx := context.Background()
	socks := make([]*sock.Conn, n)
	for i := range socks {
		socks[i] = b.socket(t, "a", family)
		if err := socks[i].Connect(mustAddr(t, to, 9)); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range socks {
		if _, err := s.Send(ctx, []byte("x"), 0); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // the errors that will come have come
	refused := 0
	buf := make([]byte, 10)
	for _, s := range socks {
		if _, err := s.Recv(ctx, buf, unix.MSG_DONTWAIT); errors.Is(err, unix.ECONNREFUSED) {
			refused++
		}
	}
	return refused
}

// ICMP errors are rate limited in a lab as on any Linux LAN: 20 quick datagrams to a closed port
// get only some refusals back, the same number on both; with the limit lifted (on request in the
// lab, by sysctl on the plain LAN), all 20.
func TestRateLimitAsOnPlainLAN(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b"}
	plain := startPlain(t, names, true)
	lab := startLab(t, names, nil)
	for _, family := range []int{unix.AF_INET, unix.AF_INET6} {
		p, l := refusals(t, plain, family, 20), refusals(t, lab, family, 20)
		t.Logf("family %d: plain LAN %d refusals, lab %d", family, p, l)
		if p != l || l >= 20 {
			t.Errorf("family %d: 20 quick datagrams to a closed port were refused %d times on a plain LAN, %d in the lab (want the same, under 20)", family, p, l)
		}
	}
	off := 0
	plain.sysctl(t, "b", "net.ipv4.icmp_ratelimit", "0")
	unlimited := startLab(t, names, &off)
	if p, l := refusals(t, plain, unix.AF_INET, 20), refusals(t, unlimited, unix.AF_INET, 20); p != 20 || l != 20 {
		t.Errorf("with icmp_ratelimit 0: %d refusals on the plain LAN, %d in the lab; want 20 and 20", p, l)
	}
}

// sendAll sends n datagrams from a to a socket bound on b and returns the outcome of each send
// and how many b received.
func sendAll(t *testing.T, b testbed, n int) ([]string, int) {
	ctx := context.Background()
	r := b.socket(t, "b", unix.AF_INET)
	if err := r.Bind(mustAddr(t, b.addr("b", unix.AF_INET), 0)); err != nil {
		t.Fatal(err)
	}
	to, err := r.Getsockname()
	if err != nil {
		t.Fatal(err)
	}
	s := b.socket(t, "a", unix.AF_INET)
	if err := s.Connect(to); err != nil {
		t.Fatal(err)
	}
	var sends []string
	for range n {
		sends = append(sends, outcome(s.Send(ctx, []byte("x"), 0)))
	}
	r.SetReadTimeout(300 * time.Millisecond)
	got := 0
	buf := make([]byte, 10)
	for {
		if _, err := r.Recv(ctx, buf, 0); err != nil {
			break
		}
		got++
	}
	return sends, got
}

// A lossy link loses datagrams on the link: every send returns its byte count, as on a LAN that
// loses nothing, and the receiver gets none (loss 1) or some (loss 0.5).
func TestLossIsOnTheLink(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b"}
	plain := startPlain(t, names, true)
	lab := startLab(t, names, nil)
	const n = 100
	want, gotPlain := sendAll(t, plain, n)
	if gotPlain != n {
		t.Fatalf("the plain LAN delivered %d of %d", gotPlain, n)
	}
	for _, loss := range []float64{1, 0.5} {
		lab.impair(t, "a", loss)
		sends, got := sendAll(t, lab, n)
		if strings.Join(sends, " ") != strings.Join(want, " ") {
			t.Errorf("loss %v: the sends gave %v in the lab, %v on a plain LAN", loss, sends, want)
		}
		if loss == 1 && got != 0 || loss < 1 && (got == 0 || got == n) {
			t.Errorf("loss %v: %d of %d datagrams arrived", loss, got, n)
		}
	}
}

// limitedBroadcast sends to 255.255.255.255 from an unbound socket with SO_BROADCAST, as the
// course's code does, and says what the send gave and what b received.
func limitedBroadcast(t *testing.T, b testbed) string {
	ctx := context.Background()
	r := b.socket(t, "b", unix.AF_INET)
	if err := r.Bind(mustAddr(t, "0.0.0.0", 5001)); err != nil {
		t.Fatal(err)
	}
	r.SetReadTimeout(2 * time.Second)
	s := b.socket(t, "a", unix.AF_INET)
	if err := s.SetsockoptInt(unix.SOL_SOCKET, unix.SO_BROADCAST, 1); err != nil {
		t.Fatal(err)
	}
	sent := outcome(s.Sendto(ctx, []byte("all"), 0, mustAddr(t, "255.255.255.255", 5001)))
	buf := make([]byte, 10)
	n, err := r.Recv(ctx, buf, 0)
	if err != nil {
		return sent + " " + outcome(n, err)
	}
	return sent + " " + string(buf[:n])
}

// 255.255.255.255 from an unbound socket works on a lab's LAN as on a LAN with a default route
// (and fails with ENETUNREACH on a LAN without one, which is what the lab gave before).
func TestLimitedBroadcastAsOnPlainLAN(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b"}
	want := limitedBroadcast(t, startPlain(t, names, true))
	got := limitedBroadcast(t, startLab(t, names, nil))
	noRoute := limitedBroadcast(t, startPlain(t, names, false))
	t.Logf("plain LAN with a default route: %s; without: %s; lab: %s", want, noRoute, got)
	if got != want || want != "3 all" {
		t.Errorf("255.255.255.255: %q in the lab, %q on a plain LAN with a default route (want \"3 all\")", got, want)
	}
	if noRoute == want {
		t.Errorf("without a default route too, 255.255.255.255 gave %q: the comparison shows nothing", noRoute)
	}
}

// A LAN whose every address a host holds (a /30 of two hosts) still gives its hosts a default
// route, through the link: 255.255.255.255 from an unbound socket, and a destination off the
// LAN, answer as on a plain LAN with a default route (it gave ENETUNREACH for both).
func TestFullLANAsOnPlainLAN(t *testing.T) {
	t.Parallel()
	spec, err := Plan(map[string]string{"x": "10.9.0.0/30"}, map[string][]string{"a": {"x"}, "b": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	lab, plain := startSpec(t, spec), startPlain(t, []string{"a", "b"}, true)
	if got, want := limitedBroadcast(t, lab), limitedBroadcast(t, plain); got != want || want != "3 all" {
		t.Errorf("255.255.255.255 on a full /30: %q, on a plain LAN %q (want \"3 all\")", got, want)
	}
	offLAN := []func() string{unreachable(t, lab, "192.0.2.1", 1), unreachable(t, plain, "192.0.2.1", 1)}
	got := make(chan string, 2)
	for _, f := range offLAN {
		go func() { got <- f() }()
	}
	for range offLAN {
		if g := <-got; g != "2 EHOSTUNREACH" {
			t.Errorf("off the LAN with IP_RECVERR: %q, want \"2 EHOSTUNREACH\" as on a plain LAN", g)
		}
	}
}

// unreachable connects a socket on a to port 43211 of dest, with IP_RECVERR on or off, sends,
// and returns a function that says what the send and the receive (waiting up to 5 s) gave.
func unreachable(t *testing.T, b testbed, dest string, recverr int) func() string {
	s := b.socket(t, "a", unix.AF_INET)
	if err := s.SetsockoptInt(unix.IPPROTO_IP, unix.IP_RECVERR, recverr); err != nil {
		t.Fatal(err)
	}
	s.SetReadTimeout(5 * time.Second)
	if err := s.Connect(mustAddr(t, dest, 43211)); err != nil {
		t.Fatal(err)
	}
	return func() string {
		ctx := context.Background()
		sent := outcome(s.Send(ctx, []byte("g1"), 0))
		return sent + " " + outcome(s.Recv(ctx, make([]byte, 10), 0))
	}
}

// A host that is down (unplugged: ARP gets no answer), and a destination off the LAN (the
// default route's gateway does not answer ARP either): a connected socket learns it only with
// IP_RECVERR (EHOSTUNREACH, after ARP gave up); without, its receive times out. The same on the
// lab and on a plain LAN.
func TestUnreachableAsOnPlainLAN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		recverr int
	}{{"without IP_RECVERR", 0}, {"with IP_RECVERR", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			names := []string{"a", "b"}
			plain, lab := startPlain(t, names, true), startLab(t, names, nil)
			plain.down(t, "b")
			lab.down(t, "b")
			want := "2 EAGAIN"
			if tc.recverr == 1 {
				want = "2 EHOSTUNREACH"
			}
			type run struct {
				what string
				fn   func() string
				got  chan string
			}
			var runs []run
			for _, dest := range []string{"b", "192.0.2.1"} {
				addr := dest
				if dest == "b" {
					addr = lab.addr("b", unix.AF_INET)
				}
				for _, bed := range []struct {
					name string
					tb   testbed
				}{{"plain LAN", plain}, {"lab", lab}} {
					runs = append(runs, run{dest + " on the " + bed.name, unreachable(t, bed.tb, addr, tc.recverr), make(chan string, 1)})
				}
			}
			for _, r := range runs {
				go func() { r.got <- r.fn() }()
			}
			for _, r := range runs {
				got := <-r.got
				t.Logf("%s: %s", r.what, got)
				if got != want {
					t.Errorf("%s %s: %q, want %q", r.what, tc.name, got, want)
				}
			}
		})
	}
}
