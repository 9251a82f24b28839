package main

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
)

// normalizeTrace replaces what changes from run to run: fd numbers, ephemeral ports, pointers;
// and drops the capture's notes of frames the kernel dropped, which other tests' traffic on lo
// can cause (the packets the test expects must still be there).
func normalizeTrace(s string, port string) string {
	s = regexp.MustCompile(`(?m)^-- \d+ packets dropped by the capture\n`).ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "htons("+port+")", "htons(PORT)")
	s = regexp.MustCompile(`:`+port+`\b`).ReplaceAllString(s, ":PORT")
	s = regexp.MustCompile(`0x[0-9a-f]+`).ReplaceAllString(s, "PTR")
	s = regexp.MustCompile(`(?m)^(\w+\()\d+([,)])`).ReplaceAllString(s, "${1}FD$2")
	s = regexp.MustCompile(`(?m)^(socket\(.*\)) = \d+$`).ReplaceAllString(s, "$1 = FD")
	s = regexp.MustCompile(`127\.0\.0\.1:\d+ >`).ReplaceAllString(s, "127.0.0.1:EPHEMERAL >")
	s = regexp.MustCompile(`\[::1\]:\d+ >`).ReplaceAllString(s, "[::1]:EPHEMERAL >")
	return s
}

func TestTraceRefused(t *testing.T) {
	t.Parallel()
	port := fmt.Sprint(freePort(t))
	r := udplab(t, "g1\n", "--trace", "scripts/refused.lua", "127.0.0.1", port)
	want := `socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = FD
connect(FD, {sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
sendto(FD, "g1", 2, 0, {sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr("127.0.0.1")}, 16) = 2
recvfrom(FD, PTR, 4096, 0, PTR, [112]) = -1 ECONNREFUSED (Connection refused)
recvfrom failed: Connection refused (111)
`
	if got := normalizeTrace(r.stderr, port); got != want || r.code != 1 {
		t.Errorf("trace (exit %d):\n%s\nwant:\n%s", r.code, got, want)
	}
	if r.stdout != "now sending g1\nsend bytes: 2 \n" {
		t.Errorf("stdout %q", r.stdout)
	}
}

// Options name their level and option; IPv6 addresses use strace's sin6_ form; data is escaped
// and cut as strace does; close is traced when the script calls it, not when udplab closes the
// rest at the end.
func TestTraceOptionsAndIPv6(t *testing.T) {
	t.Parallel()
	r := udplab(t, "", "--trace", "-e", `
		local s = socket(AF_INET6, SOCK_DGRAM)
		bind(s, "::1", 0)
		setsockopt(s, SOL_SOCKET, SO_BROADCAST, 1)
		settimeout(s, 0.5)
		print(getsockopt(s, SOL_SOCKET, SO_ERROR))
		local me = getsockname(s)
		sendto(s, "a\0b\n\t\"\\x\1\127\255 9 this is a long string over thirty-two bytes", me)
		recvfrom(s, 100)
		send(s, "x")
		connect(s, {family = AF_UNSPEC})
		local v4 = socket(AF_INET, SOCK_DGRAM)
		setsockopt(v4, IPPROTO_IP, IP_ADD_MEMBERSHIP, {multiaddr = "239.1.2.3", interface = "127.0.0.1"})
		poll({v4}, 0)
		close(v4)
		local kept = socket(AF_INET, SOCK_DGRAM)`)
	sin6 := `{sa_family=AF_INET6, sin6_port=htons(PORT), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}`
	data := `"a\0b\n\t\"\\x\1\177\377 9 this is a long str"...`
	want := strings.Join([]string{
		`socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = FD`,
		`bind(FD, {sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0`,
		`setsockopt(FD, SOL_SOCKET, SO_BROADCAST, [1], 4) = 0`,
		`setsockopt(FD, SOL_SOCKET, SO_RCVTIMEO, {tv_sec=0, tv_usec=500000}, 16) = 0`,
		`getsockopt(FD, SOL_SOCKET, SO_ERROR, [0], [4]) = 0`,
		`getsockname(FD, ` + sin6 + `, [112 => 28]) = 0`,
		`sendto(FD, ` + data + `, 57, 0, ` + sin6 + `, 28) = 57`,
		`recvfrom(FD, ` + data + `, 100, 0, ` + sin6 + `, [112 => 28]) = 57`,
		`sendto(FD, "x", 1, 0, NULL, 0) = -1 EDESTADDRREQ (Destination address required)`,
		`connect(FD, {sa_family=AF_UNSPEC, sa_data="\0\0\0\0\0\0\0\0\0\0\0\0\0\0"}, 16) = 0`,
		`socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = FD`,
		`setsockopt(FD, SOL_IP, IP_ADD_MEMBERSHIP, {imr_multiaddr=inet_addr("239.1.2.3"), imr_address=inet_addr("127.0.0.1"), imr_ifindex=0}, 12) = 0`,
		`poll([{fd=FD, events=POLLIN}], 1, 0) = 0 (Timeout)`,
		`close(FD) = 0`,
		`socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = FD`,
		``}, "\n")
	port := regexp.MustCompile(`sin6_port=htons\((\d+)\), sin6_flowinfo=htonl\(0\), inet_pton\(AF_INET6, "::1", &sin6_addr\), sin6_scope_id=0\}, \[112`).FindStringSubmatch(r.stderr)
	if port == nil {
		t.Fatalf("no getsockname line in:\n%s", r.stderr)
	}
	got := normalizeTrace(r.stderr, port[1])
	got = regexp.MustCompile(`fd=\d+`).ReplaceAllString(got, "fd=FD")
	if got != want {
		t.Errorf("trace:\n%s\nwant:\n%s", got, want)
	}
}

// The wire view: connect sends nothing; the refused send shows one UDP datagram, then one ICMP
// port unreachable. Capturing needs CAP_NET_RAW: without it the test checks the one-line notice.
func TestWire(t *testing.T) {
	t.Parallel()
	port := fmt.Sprint(freePort(t))
	r := udplab(t, "g1\n", "--wire", "scripts/refused.lua", "127.0.0.1", port)
	if strings.Contains(r.stderr, "no capture of lo") {
		if os.Geteuid() == 0 {
			t.Fatalf("running as root, but: %s", r.stderr)
		}
		t.Skipf("capture not permitted here: %s", strings.SplitN(r.stderr, "\n", 2)[0])
	}
	got := normalizeTrace(r.stderr, port)
	want := `socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = FD
connect(FD, {sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
sendto(FD, "g1", 2, 0, {sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr("127.0.0.1")}, 16) = 2
127.0.0.1:EPHEMERAL > 127.0.0.1:PORT UDP len 2 "g1"
127.0.0.1 > 127.0.0.1 ICMP port unreachable for UDP 127.0.0.1:EPHEMERAL > 127.0.0.1:PORT
recvfrom(FD, PTR, 4096, 0, PTR, [112]) = -1 ECONNREFUSED (Connection refused)
recvfrom failed: Connection refused (111)
`
	if got != want {
		t.Errorf("wire view:\n%s\nwant:\n%s", got, want)
	}
}

func TestWireIPv6(t *testing.T) {
	t.Parallel()
	r := udplab(t, "", "--wire", "-e", `
		local p = socket(AF_INET6, SOCK_DGRAM); bind(p, "::1", 0); local a = getsockname(p); close(p)
		local c = socket(AF_INET6, SOCK_DGRAM); settimeout(c, 1); connect(c, a)
		send(c, "v6"); recv(c, 10)`)
	if strings.Contains(r.stderr, "no capture of lo") {
		t.Skipf("capture not permitted here")
	}
	for _, want := range []string{"UDP len 2 \"v6\"", "::1 > ::1 ICMP6 port unreachable for UDP [::1]:"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("wire view lacks %q:\n%s", want, r.stderr)
		}
	}
}

// Showing a socket is not a call the script made: print(s) and tostring(s) trace nothing.
func TestDisplayDoesNotTrace(t *testing.T) {
	t.Parallel()
	r := udplab(t, "", "--trace", "-e", `s = socket(AF_INET, SOCK_DGRAM); print(s); local _ = tostring(s)`)
	if got, want := normalizeTrace(r.stderr, "0"), "socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = FD\n"; got != want || r.code != 0 {
		t.Errorf("trace (exit %d):\n%s\nwant:\n%s", r.code, got, want)
	}
}

// The wire view in the console: the packets of a call come after its line, and a datagram that
// arrives while the console waits for a line is shown at once.
func TestWireInConsole(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("capturing needs CAP_NET_RAW")
	}
	term := startTerminal(t, t.TempDir(), "--wire")
	term.enter("s = socket(AF_INET, SOCK_DGRAM); bind(s, '127.0.0.1', 0); port = getsockname(s).port", "\n")
	term.enter("print(port)", "\n")
	port := lastNumber(t, term.screen())
	term.enter(fmt.Sprintf("sendto(s, 'g1', '127.0.0.1', %d)", freePort(t)), "ICMP port unreachable for UDP 127.0.0.1:"+fmt.Sprint(port))
	term.mark()
	peer, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peer.Write([]byte("while idle"))
	term.waitFor(fmt.Sprintf(`> 127.0.0.1:%d UDP len 10 "while idle"`, port), screenWait)
}

// --trace names the lab host a socket lives in, on each of its lines.
func TestTraceNamesLabHost(t *testing.T) {
	t.Parallel()
	r := udplab(t, "", "--trace", "-e", `local net = assert(network{"a", "b"})
		local s = net.a:socket(AF_INET, SOCK_DGRAM); connect(s, net.b.addr, 9); net:close()`)
	got := regexp.MustCompile(`(?m)^(socket\(.*\)) = \d+   \(in`).ReplaceAllString(normalizeTrace(r.stderr, "9"), "$1 = FD   (in")
	want := "socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = FD   (in a)\n" +
		`connect(FD, {sa_family=AF_INET, sin_port=htons(PORT), sin_addr=inet_addr("10.0.0.2")}, 16) = 0   (in a)` + "\n"
	if got != want || r.code != 0 {
		t.Errorf("trace (exit %d):\n%s\nwant:\n%s", r.code, got, want)
	}
}

// The wire view of a lab: ARP, the datagram and the ICMP error on the LAN, with the hosts named.
func TestWireInLab(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("capturing needs CAP_NET_RAW")
	}
	r := udplab(t, "", "--wire", "-e", `local net = assert(network{"a", "b"})
		local s = net.a:socket(AF_INET, SOCK_DGRAM); connect(s, net.b.addr, 9); send(s, "x"); net:close()`)
	for _, want := range []string{
		"ARP who-has b 10.0.0.2 tell a 10.0.0.1\n",
		"> b 10.0.0.2:9 UDP len 1 \"x\"\n",
		"b 10.0.0.2 > a 10.0.0.1 ICMP port unreachable for UDP a 10.0.0.1:",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the wire view lacks %q:\n%s", want, r.stderr)
		}
	}
}

// label(s, name) names the socket in the trace (3<server>) and at its address in the wire view,
// in a script, in a lab host (where the wire view names the host too), and at the console.
func TestTraceNamesLabelledSockets(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("capturing needs CAP_NET_RAW")
	}
	loopback := `local srv = socket(AF_INET, SOCK_DGRAM); label(srv, "server"); bind(srv, "127.0.0.1", 0)
		local c = socket(AF_INET, SOCK_DGRAM); connect(c, getsockname(srv)); send(c, "g1"); recv(srv, 10)`
	r := udplab(t, "", "--wire", "-e", loopback)
	lab := udplab(t, "", "--wire", "-e", `local net = assert(network{"a", "b"})
		local srv = net.b:socket(AF_INET, SOCK_DGRAM); label(srv, "server"); bind(srv, net.b.addr, 43211)
		local c = net.a:socket(AF_INET, SOCK_DGRAM); label(c, "client"); connect(c, net.b.addr, 43211)
		send(c, "g1"); recv(srv, 10); close(srv); send(c, "g2"); net:close()`)
	// at the console, each line is a chunk of its own: globals
	console := udplab(t, "wire(true)\n"+strings.ReplaceAll(strings.ReplaceAll(loopback, "local ", ""), "\n", " ")+"\n")
	for _, run := range []struct {
		name string
		r    result
		want []string
	}{
		{"script", r, []string{`^bind\(\d+<server>, `, `^127\.0\.0\.1:\d+ > 127\.0\.0\.1:\d+ \(server\) UDP len 2 "g1"$`, `^recvfrom\(\d+<server>, "g1"`, `^connect\(\d+, `}},
		{"lab", lab, []string{`^connect\(\d+<client>, .*\(in a\)$`, `^a 10\.0\.0\.1:\d+ \(client\) > b 10\.0\.0\.2:43211 \(server\) UDP len 2 "g1"$`,
			`^b 10\.0\.0\.2 > a 10\.0\.0\.1 ICMP port unreachable for UDP a 10\.0\.0\.1:\d+ \(client\) > b 10\.0\.0\.2:43211$`}},
		{"console", console, []string{`^bind\(\d+<server>, `, `^127\.0\.0\.1:\d+ > 127\.0\.0\.1:\d+ \(server\) UDP len 2 "g1"$`}},
	} {
		for _, want := range run.want {
			if !regexp.MustCompile(`(?m)` + want).MatchString(run.r.stderr) {
				t.Errorf("%s: no line matches %s:\n%s", run.name, want, run.r.stderr)
			}
		}
	}
}
