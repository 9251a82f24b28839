package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/diagram"
)

// --diagram draws real runs: refused.lua (the refusal), pinned.lua (the pinned server and its two
// clients) and a lab script; no labels overlapping; "-" prints the text form.
func TestDiagramOfRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name      string
		args      []string
		stdin     string
		lifelines int // at least
		icmp      int // at least
	}{
		{"refused", []string{"scripts/refused.lua", "127.0.0.1", "9"}, "g1\n", 2, 1},
		{"pinned", []string{"scripts/pinned.lua"}, "", 3, 1},
		{"unreachable", []string{"scripts/lan/unreachable.lua"}, "", 3, 2},
	} {
		svg := filepath.Join(dir, tc.name+".svg")
		r := runUdplab(t, nil, tc.stdin, append([]string{"--diagram", svg}, tc.args...)...)
		b, err := os.ReadFile(svg)
		if err != nil {
			t.Fatalf("%s: no diagram (%v); run %+v", tc.name, err, r)
		}
		shape, err := diagram.ReadSVG(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if shape.Classes["lifeline"] < tc.lifelines || shape.Classes["datagram"] < 1 || shape.Classes["icmp"] < tc.icmp {
			t.Errorf("%s: %v; want at least %d lifelines, a datagram, %d ICMP arrows", tc.name, shape.Classes, tc.lifelines, tc.icmp)
		}
		if o := diagram.Overlapping(shape.Boxes); o != "" {
			t.Errorf("%s: labels overlap: %s", tc.name, o)
		}
	}
	r := udplab(t, "g1\n", "--diagram", "-", "scripts/refused.lua", "127.0.0.1", "9")
	for _, want := range []string{"(no socket)", "sendto \"g1\" (2 bytes)", "ICMP port unreachable (type 3, code 3)", "✖ recvfrom → ECONNREFUSED (111)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the text diagram lacks %q:\n%s", want, r.stdout)
		}
	}
}

// The console keeps a diagram of its session: diagram() prints it. --diagram to a file that
// cannot be written fails at once, before the script runs.
func TestDiagramAtTheConsole(t *testing.T) {
	t.Parallel()
	r := udplab(t, "s = socket(AF_INET, SOCK_DGRAM)\nconnect(s, \"127.0.0.1:9\")\nsend(s, \"g1\")\nrecv(s, 10)\ndiagram()\n")
	if !strings.Contains(r.stdout, "✖ recv → ECONNREFUSED (111)") || !strings.Contains(r.stdout, "ICMP port unreachable") || r.code != 0 {
		t.Errorf("diagram() at the console: %+v", r)
	}
	r = udplab(t, "", "--diagram", "/nonexistent/x.svg", "-e", `print("ran")`)
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "cannot write the diagram") {
		t.Errorf("--diagram to a folder that does not exist: %+v", r)
	}
}

// model runs udplab with args and returns the model --diagram out.json wrote.
func model(t *testing.T, stdin string, args ...string) (*diagram.Model, result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.json")
	r := runUdplab(t, nil, stdin, append([]string{"--diagram", path}, args...)...)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no model: %v; run %+v", err, r)
	}
	m, err := diagram.ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	return m, r
}

func lifelineOf(m *diagram.Model, id string) *diagram.Lifeline {
	for i := range m.Lifelines {
		if m.Lifelines[i].ID == id {
			return &m.Lifelines[i]
		}
	}
	return nil
}

// At the console the sockets of bg jobs and run scripts are on the picture: g1 to the pinned
// server bg started is delivered to the server's socket, which answers, and the socket of a
// script run() ran is there too.
func TestDiagramConsoleJobs(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "ping.lua")
	os.WriteFile(script, []byte(fmt.Sprintf(`local s = socket(AF_INET, SOCK_DGRAM); settimeout(s, 2)
connect(s, "127.0.0.1", %d); send(s, "from run"); recv(s, 100)`, port)), 0o644)
	out := filepath.Join(dir, "console.json")
	chunks := fmt.Sprintf(`j = bg("udpconnectserver", %d)
c = socket(AF_INET, SOCK_DGRAM) settimeout(c, 2) connect(c, "127.0.0.1", %d) send(c, "g1") print(recv(c, 100))
run(%q)
stop(j)
diagram(%q)
`, port, port, script, out)
	r := udplab(t, chunks)
	if !strings.Contains(r.stdout, "Hi, g1") {
		t.Fatalf("the server did not answer: %+v", r)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v: %+v", err, r)
	}
	m, err := diagram.ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	var g1, hi, fromRun *diagram.Event
	for i := range m.Events {
		e := &m.Events[i]
		switch {
		case e.Kind == "datagram" && e.Data == `"g1"`:
			g1 = e
		case e.Kind == "datagram" && e.Data == `"Hi, g1"`:
			hi = e
		case e.Kind == "datagram" && e.Data == `"from run"`:
			fromRun = e
		}
	}
	if g1 == nil || g1.Fate != "delivered" || len(g1.To) != 1 || lifelineOf(m, g1.To[0]).Owner != "udpconnectserver" {
		t.Errorf("g1 to the bg server: %+v", g1)
	}
	if hi == nil || hi.Fate != "delivered" || lifelineOf(m, hi.From).Owner != "udpconnectserver" {
		t.Errorf("Hi, g1 from the bg server: %+v", hi)
	}
	if fromRun == nil || lifelineOf(m, fromRun.From).Owner != "ping" {
		t.Errorf("the run script's datagram: %+v", fromRun)
	}
}

// The wire view and the picture show this run's sockets only: another program's datagrams to a
// port a lab host's socket also has (and to this run's port on another address) are not there.
func TestWireOnlyThisRun(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("capturing lo needs CAP_NET_RAW")
	}
	other, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	port := other.LocalAddr().(*net.UDPAddr).Port
	stop := make(chan struct{})
	defer close(stop)
	go func() { // another program's traffic, to that port on lo, all along
		for {
			select {
			case <-stop:
				return
			default:
			}
			other.WriteTo([]byte("not yours"), other.LocalAddr())
			time.Sleep(2 * time.Millisecond)
		}
	}()
	m, r := model(t, "", "--wire", "-e", fmt.Sprintf(`local net = network{"a", "b"}
local s = net.b:socket(AF_INET, SOCK_DGRAM); bind(s, net.b.addr, %d); settimeout(s, 1)
local c = net.a:socket(AF_INET, SOCK_DGRAM); sendto(c, "mine", net.b.addr, %d); print(recv(s, 10))
local l = socket(AF_INET, SOCK_DGRAM); bind(l, "127.0.0.2", %d); sendto(l, "lo", "127.0.0.2", %d); print(recv(l, 10))`, port, port, port, port))
	if r.stdout != "mine\nlo\n" {
		t.Fatalf("%+v", r)
	}
	if strings.Contains(r.stderr, "not yours") {
		t.Errorf("the wire view shows another program's datagrams:\n%s", r.stderr)
	}
	for _, e := range m.Events {
		if strings.Contains(e.Data, "not yours") {
			t.Errorf("the picture shows another program's datagram: %+v", e)
		}
	}
	if len(m.Lifelines) > 8 {
		t.Errorf("%d lifelines: %+v", len(m.Lifelines), m.Lifelines)
	}
}

// --diagram destroys nothing: a Lua script given where the picture goes is refused and left as
// it was; a run killed while it runs leaves the previous picture whole; a picture that cannot be
// written at the end makes the exit status non-zero.
func TestDiagramFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mine := filepath.Join(dir, "mine.lua")
	os.WriteFile(mine, []byte(`print("mine")`), 0o644)
	r := udplab(t, "", "--diagram", mine)
	if b, _ := os.ReadFile(mine); r.code != 2 || string(b) != `print("mine")` || !strings.Contains(r.stderr, "is a Lua script: not writing over it") {
		t.Errorf("--diagram mine.lua: %+v; the script now holds %q", r, b)
	}
	// killed by SIGTERM in the middle of a run: the old picture stays
	old := filepath.Join(dir, "old.svg")
	os.WriteFile(old, []byte("<svg>previous</svg>"), 0o644)
	cmd := exec.Command("udplab", "--diagram", old, "-e", `local s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); print("up"); io.stdout:flush(); recv(s, 10)`)
	var out syncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "up\n")
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if b, _ := os.ReadFile(old); string(b) != "<svg>previous</svg>" && !bytes.HasPrefix(b, []byte("<svg xmlns")) {
		t.Errorf("after SIGTERM the picture holds %q: neither the old one nor a whole new one", b)
	}
	// the folder is gone by the end: the picture cannot be written
	gone := filepath.Join(dir, "gone")
	os.Mkdir(gone, 0o755)
	r = udplab(t, "", "--diagram", filepath.Join(gone, "x.svg"), "-e", fmt.Sprintf(`os.remove(%q)`, gone))
	if r.code == 0 || !strings.Contains(r.stderr, "the diagram could not be written") {
		t.Errorf("a picture that could not be written: %+v", r)
	}
}

// --diagram writes what is at its path as what it is: a file (through a symbolic link, which
// stays a link) is replaced whole; a device, a FIFO or the run's own standard output is written
// in place. A rename over /dev/stdout or /dev/null (as root) put a regular file where the system's
// device or link was.
func TestDiagramPathKinds(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "s.lua")
	os.WriteFile(script, []byte(`print("hi")`), 0o644)
	run := func(path string) result { return udplab(t, "", "--diagram", path, script) }

	// a link to a file: the file is written, the link kept
	os.WriteFile(filepath.Join(dir, "old.txt"), []byte("old"), 0o644)
	os.Symlink("old.txt", filepath.Join(dir, "link.txt"))
	if r := run(filepath.Join(dir, "link.txt")); r.code != 0 {
		t.Fatalf("through a link: %+v", r)
	}
	if fi, _ := os.Lstat(filepath.Join(dir, "link.txt")); fi == nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", fi)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "old.txt")); !strings.Contains(string(b), "no socket calls") {
		t.Errorf("the link's file holds %q, not the picture", b)
	}
	// a link to a file not made yet: the file is made
	os.Symlink("new.txt", filepath.Join(dir, "dangling.txt"))
	run(filepath.Join(dir, "dangling.txt"))
	if b, _ := os.ReadFile(filepath.Join(dir, "new.txt")); !strings.Contains(string(b), "no socket calls") {
		t.Errorf("a link to nothing yet: its file holds %q", b)
	}

	// the run's standard output, redirected to a file: the picture follows what the run printed
	// (a pipe here), or to a file
	r := runUdplab(t, nil, "", "-e", `print("hi")`, "--diagram", "/proc/self/fd/1")
	if !strings.HasPrefix(r.stdout, "hi\n") || !strings.Contains(r.stdout, "no socket calls") {
		t.Errorf("to its own standard output, a pipe: %q", r.stdout)
	}
	out, err := os.Create(filepath.Join(dir, "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("udplab", "-e", `print("hi")`, "--diagram", "/proc/self/fd/1") // never /dev/stdout: were the code wrong, a rename would replace the system's link
	cmd.Stdout = out
	cmd.Run()
	out.Close()
	if b, _ := os.ReadFile(out.Name()); !strings.HasPrefix(string(b), "hi\n") || !strings.Contains(string(b), "no socket calls") {
		t.Errorf("to its own standard output, a file: %q", b)
	}

	// a FIFO: written in place when a process reads it; an error, not a wait, when none does
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// the reader: opened before the run without waiting for a writer, read until the writer,
	// once it came, has gone
	rfd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		var b []byte
		buf := make([]byte, 4096)
		for deadline := time.Now().Add(runBound); time.Now().Before(deadline); {
			n, err := unix.Read(rfd, buf)
			if n > 0 {
				b = append(b, buf[:n]...)
				continue
			}
			if n == 0 && err == nil && len(b) > 0 {
				break // the writer closed
			}
			time.Sleep(5 * time.Millisecond)
		}
		got <- b
	}()
	if r := run(fifo); r.code != 0 {
		t.Errorf("to a FIFO with a reader: %+v", r)
	}
	if b := <-got; !strings.Contains(string(b), "no socket calls") {
		t.Errorf("the FIFO's reader got %q", b)
	}
	unix.Close(rfd)
	if r := run(fifo); r.code == 0 || !strings.Contains(r.stderr, "no process reads it") {
		t.Errorf("to a FIFO nobody reads: %+v", r)
	}
	if fi, _ := os.Lstat(fifo); fi == nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v", fi)
	}

	// a device: written in place, never replaced by a file
	if os.Geteuid() != 0 {
		t.Skip("making a device node needs root")
	}
	null := filepath.Join(dir, "null")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skipf("mknod: %v", err)
	}
	if r := run(null); r.code != 0 {
		t.Errorf("to a null device: %+v", r)
	}
	if fi, _ := os.Lstat(null); fi == nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("the device was replaced: %v", fi)
	}
	full := filepath.Join(dir, "full")
	unix.Mknod(full, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 7)))
	if r := run(full); r.code == 0 || !strings.Contains(r.stderr, "no space left on device") {
		t.Errorf("to a full device: %+v", r)
	}
	if fi, _ := os.Lstat(full); fi == nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("the device was replaced: %v", fi)
	}
}

// shippedRuns are the shipped scripts as the truth test runs them: with the input and arguments
// they need.
var shippedRuns = map[string]struct {
	stdin string
	args  []string
}{
	"refused":           {"g1\n", nil},
	"udpconnectclient2": {"g1\n", nil},
	"udpconnectserver":  {"", nil}, // waits for a client: skipped
	// 400,000 traced datagrams under --wire take a minute on a loaded machine; the picture's
	// truth needs only a few
	"connected_speed": {"", []string{"2000", "3"}},
}

// The picture tells the truth, for every shipped script, run with --wire as root: every datagram
// a receive returned is delivered to that socket in the model; every ICMP error the wire view
// captured comes from the host whose address sent it, as the pcap file (written by the same
// capture, read with gopacket's pcapgo) shows; no datagram is drawn twice; the picture is at
// most 1920 px wide with 13 px text, and 20,000 px tall.
func TestDiagramTruth(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the wire view needs root")
	}
	scripts, _ := filepath.Glob("scripts/*.lua")
	lan, _ := filepath.Glob("scripts/lan/*.lua")
	for _, path := range append(scripts, lan...) {
		name := strings.TrimSuffix(filepath.Base(path), ".lua")
		if name == "udpconnectserver" {
			continue // a server: it waits for clients, and pinned.lua runs it with them
		}
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pcap, out := filepath.Join(dir, "run.pcapng"), filepath.Join(dir, "run.json")
			run := shippedRuns[name]
			r := runUdplab(t, nil, run.stdin, append([]string{"--wire", "--pcap", pcap, "--diagram", out, path}, run.args...)...)
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("no model: %v; %+v", err, r)
			}
			m, err := diagram.ParseModel(b)
			if err != nil {
				t.Fatal(err)
			}
			checkTruth(t, m, readICMPSources(t, pcap))
			shape, err := diagram.ReadSVG(bytes.NewReader(m.SVG()))
			if err != nil {
				t.Fatal(err)
			}
			if shape.Width > 1920 || shape.FontPx < 13 || shape.Height > 20000 {
				t.Errorf("%v x %v px with %v px text; want at most 1920 x 20000, at least 13", shape.Width, shape.Height, shape.FontPx)
			}
			if o := diagram.Overlapping(shape.Boxes); o != "" {
				t.Errorf("labels overlap: %s", o)
			}
		})
	}
}

// whereItWent are runs in which the same bytes go to two ports, one before its socket exists, or
// to a connected socket from its peer and from another host, and datagrams stopped by a router and by a firewall: the picture must not match a datagram to
// a receive on a socket that could not have queued it, nor draw a stopped one as reaching the
// socket it was sent to.
var whereItWent = map[string]string{
	"same bytes": `local net = network{"a", "b"}
local sb = net.b:socket(AF_INET, SOCK_DGRAM); bind(sb, net.b.addr, 5000)
sendto(sb, "same", net.a.addr, 6001)
local sa = net.a:socket(AF_INET, SOCK_DGRAM); bind(sa, net.a.addr, 6002); settimeout(sa, 1)
sendto(sb, "same", net.a.addr, 6002)
print(recvfrom(sa, 100))`,
	"connected": `local net = network{"a", "b", "c"}
local srv = net.a:socket(AF_INET, SOCK_DGRAM); bind(srv, net.a.addr, 7000); connect(srv, net.c.addr, 9000); settimeout(srv, 1)
local sb = net.b:socket(AF_INET, SOCK_DGRAM); bind(sb, net.b.addr, 9000); sendto(sb, "x", net.a.addr, 7000)
local sc = net.c:socket(AF_INET, SOCK_DGRAM); bind(sc, net.c.addr, 9000); sendto(sc, "x", net.a.addr, 7000)
print(recv(srv, 100))`,
	"router": `local net = network{lans = {left = "10.1.0.0/24", right = "10.2.0.0/24"}, hosts = {a = "left", b = "right", r = {"left", "right"}}}
local srv = net.b:socket(AF_INET, SOCK_DGRAM); bind(srv, net.b.addr, 7000); settimeout(srv, 0.2)
local c = net.a:socket(AF_INET, SOCK_DGRAM); setsockopt(c, IPPROTO_IP, IP_RECVERR, 1); connect(c, net.b.addr, 7000); settimeout(c, 0.2)
net.r:firewall("reject"); send(c, "rejected"); recv(c, 100); recverr(c); recvfrom(srv, 100)
net.r:firewall(nil); setsockopt(c, IPPROTO_IP, IP_TTL, 1); send(c, "ttl 1"); recv(c, 100); recverr(c); recvfrom(srv, 100)
print("done")`,
	"firewall": `local net = network{"a", "b"}
local srv = net.b:socket(AF_INET, SOCK_DGRAM); bind(srv, net.b.addr, 7000); settimeout(srv, 0.2)
local c = net.a:socket(AF_INET, SOCK_DGRAM); connect(c, net.b.addr, 7000); settimeout(c, 0.2)
net.b:firewall("reject"); send(c, "r1"); recvfrom(srv, 100); print(recv(c, 100))`,
}

// The picture of each of whereItWent tells the truth, with the wire view and without it.
func TestDiagramWhereItWent(t *testing.T) {
	t.Parallel()
	for name, script := range whereItWent {
		for _, wire := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s wire=%v", name, wire), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				pcap, out := filepath.Join(dir, "run.pcapng"), filepath.Join(dir, "run.json")
				args := []string{"--diagram", out, "-e", script}
				if wire {
					args = append([]string{"--wire", "--pcap", pcap}, args...)
				}
				r := udplab(t, "", args...)
				b, err := os.ReadFile(out)
				if r.code != 0 || err != nil {
					t.Fatalf("no model (%v): %+v", err, r)
				}
				m, err := diagram.ParseModel(b)
				if err != nil {
					t.Fatal(err)
				}
				sources := map[string]bool{}
				if wire {
					sources = readICMPSources(t, pcap)
				}
				checkTruth(t, m, sources)
			})
		}
	}
}

// checkTruth holds a model against the calls it holds and the ICMP errors captured (by source
// address and type/code).
func checkTruth(t *testing.T, m *diagram.Model, icmpSources map[string]bool) {
	t.Helper()
	sends := 0
	for _, e := range m.Events {
		if e.Kind == "call" && (e.Call == "recv" || e.Call == "recvfrom") && !e.Error && !strings.HasPrefix(e.Result, "EAGAIN") {
			// the datagram it returned is delivered to it
			found := false
			for _, d := range m.Events {
				got, sent := quotedPrefix(e.Result[:strings.LastIndex(e.Result, " (")]), quotedPrefix(d.Data)
				// a receive into a short buffer returns the datagram's start
				if d.Kind == "datagram" && d.Fate == "delivered" && (strings.HasPrefix(got, sent) || strings.HasPrefix(sent, got)) && slices.Contains(d.To, e.Lifeline) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s on %s returned %s, but no datagram is delivered there", e.Call, lifelineOf(m, e.Lifeline).Label, e.Result)
			}
		}
		if e.Kind == "datagram" && e.Call != "" {
			sends++
		}
		if e.Kind == "icmp" && !e.Inferred {
			from := lifelineOf(m, e.From)
			ok := false
			for _, a := range hostAddrs(from) {
				if icmpSources[fmt.Sprintf("%s %d/%d", a, *e.Type, *e.Code)] {
					ok = true
				}
			}
			if !ok {
				t.Errorf("an ICMP error (%s) drawn from %s (%s), whose addresses sent no such error: %v", e.ICMP, from.Label, from.Addr, icmpSources)
			}
		}
	}
	checkDelivered(t, m)
	checkStopped(t, m)
	// no datagram twice: a packet the wire view captured of a send the run made is that send's
	// datagram, not one more from an untraced sender at the same address
	held := map[string]bool{}
	for _, l := range m.Lifelines {
		if l.Kind == "socket" && l.Addr != "" {
			held[l.Host+"/"+l.Addr] = true
		}
	}
	for _, e := range m.Events {
		if e.Kind == "datagram" && e.Call == "" {
			if from := lifelineOf(m, e.From); from != nil && held[from.Host+"/"+from.Addr] {
				t.Errorf("a datagram drawn twice: %s from %s, whose socket the run traced", e.Data, from.Label)
			}
		}
	}
	_ = sends
}

// checkDelivered holds every delivered datagram against its receivers as the model's calls show
// them: each existed when it was sent and was bound by then (its bind, if it made one, came
// before), to the address it was sent to (the port, the family, the same address or a wildcard; a
// group's datagram on the port, whatever connect made its local address since; one sent to a
// router's address, which its NAT translated, in the family), and, if connected then, to the
// address that sent it.
func checkDelivered(t *testing.T, m *diagram.Model) {
	t.Helper()
	routers := map[netip.Addr]bool{}
	for _, l := range m.Lifelines {
		if l.Kind == "router" {
			for _, a := range strings.Split(l.Addr, ", ") {
				routers[netip.MustParseAddr(a)] = true
			}
		}
	}
	for _, d := range m.Events {
		if d.Kind != "datagram" || d.Fate != "delivered" || d.Call == "" {
			continue
		}
		dest := netip.MustParseAddrPort(d.Dest)
		for _, id := range d.To {
			r := lifelineOf(m, id)
			what := fmt.Sprintf("%s sent at %.6f to %s, drawn delivered to %s", d.Data, d.T, d.Dest, r.Label)
			local, err := netip.ParseAddrPort(r.Addr)
			switch {
			case r.Kind != "socket" || err != nil:
				t.Errorf("%s: not a bound socket", what)
				continue
			case r.From > d.T:
				t.Errorf("%s, which was made only at %.6f", what, r.From)
			}
			bound, peer := boundAndPeer(m, id, d.T)
			if !bound {
				t.Errorf("%s, which bound only after it was sent", what)
			}
			la, da := local.Addr().Unmap(), dest.Addr().Unmap()
			sameFamily := la.Is4() == da.Is4() || la.IsUnspecified() && la.Is6()
			switch {
			case da.IsMulticast() || da.Is4() && da.As4()[3] == 255 || routers[da]:
				if !sameFamily || !routers[da] && local.Port() != dest.Port() {
					t.Errorf("%s, whose address %s is not on its port or of its family", what, r.Addr)
				}
			case local.Port() != dest.Port() || la != da && !(la.IsUnspecified() && sameFamily):
				t.Errorf("%s, whose address %s is not that one", what, r.Addr)
			}
			if from, err := netip.ParseAddrPort(lifelineOf(m, d.From).Addr); peer.IsValid() && err == nil {
				for _, hop := range d.Via {
					if src, ok := strings.CutPrefix(hop.Addr, "source "); ok {
						from = netip.MustParseAddrPort(src)
					}
				}
				if peer.Port() != from.Port() || peer.Addr().Unmap() != from.Addr().Unmap() && !from.Addr().IsUnspecified() {
					t.Errorf("%s, which was connected to %s then", what, peer)
				}
			}
		}
	}
}

// boundAndPeer says whether socket lifeline id had bound (or made no bind at all) by t, and the
// peer it was connected to then, as its calls show.
func boundAndPeer(m *diagram.Model, id string, t float64) (bound bool, peer netip.AddrPort) {
	bound = true
	for _, e := range m.Events {
		if e.Kind != "call" || e.Lifeline != id || e.Error {
			continue
		}
		switch {
		case e.Call == "bind":
			bound = e.T <= t
		case e.Call == "connect" && e.T <= t:
			peer, _ = netip.ParseAddrPort(e.Args) // AF_UNSPEC: none
		}
	}
	return bound, peer
}

// checkStopped holds every datagram that was not delivered against where it ends: never at a
// socket that would have taken it (dropped there, or refused by one not connected to another
// peer); and where an ICMP error other than a port unreachable names its sender, the datagram it
// is about ends at that host or router, where it stopped.
func checkStopped(t *testing.T, m *diagram.Model) {
	t.Helper()
	for _, d := range m.Events {
		if d.Kind != "datagram" || d.Fate == "delivered" || d.Fate == "unknown" {
			continue
		}
		r := lifelineOf(m, d.To[0])
		if r.Kind != "socket" {
			continue
		}
		_, peer := boundAndPeer(m, r.ID, d.T)
		from, _ := netip.ParseAddrPort(lifelineOf(m, d.From).Addr)
		if d.Fate != "refused" || !peer.IsValid() || peer.Port() == from.Port() && peer.Addr().Unmap() == from.Addr().Unmap() {
			t.Errorf("%s sent at %.6f drawn %s at %s, a socket that would have taken it", d.Data, d.T, d.Fate, r.Label)
		}
	}
	for _, e := range m.Events {
		if e.Kind != "icmp" || e.From == "" || e.Type == nil || *e.Type == 3 && *e.Code == 3 || *e.Type == 1 && *e.Code == 4 {
			continue
		}
		found := false
		for _, d := range m.Events {
			if d.Kind == "datagram" && d.From == e.To[0] && d.T <= e.T && d.Fate != "delivered" && d.To[0] == e.From {
				found = true
			}
		}
		if !found {
			t.Errorf("%s from %s at %.6f, and no datagram of %s before it ends there", e.ICMP, lifelineOf(m, e.From).Label, e.T, lifelineOf(m, e.To[0]).Label)
		}
	}
}

// quotedPrefix is a datagram's quoted data without its closing quote (and "..." when cut), to
// match the start of a receive's result.
func quotedPrefix(q string) string {
	q = strings.TrimSuffix(q, "...")
	q = strings.TrimSuffix(q, `"`)
	if len(q) > 10 {
		q = q[:10]
	}
	return q
}

// hostAddrs are the addresses a host's lifeline stands for: a lab host's, or this machine's
// loopback addresses.
func hostAddrs(l *diagram.Lifeline) []string {
	if l == nil {
		return nil
	}
	if l.Host == "" {
		return []string{"127.0.0.1", "::1"}
	}
	return strings.Split(l.Addr, ", ")
}

// readICMPSources reads a pcapng file and returns the ICMP errors in it, as "source type/code".
func readICMPSources(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if len(data) < 14 {
			continue
		}
		switch binary.BigEndian.Uint16(data[12:14]) {
		case 0x0800:
			ip := data[14:]
			if len(ip) >= 28 && ip[9] == 1 {
				hl := int(ip[0]&0xf) * 4
				src, _ := netip.AddrFromSlice(ip[12:16])
				sources[fmt.Sprintf("%s %d/%d", src, ip[hl], ip[hl+1])] = true
			}
		case 0x86dd:
			ip := data[14:]
			if len(ip) >= 48 && ip[6] == 58 {
				src, _ := netip.AddrFromSlice(ip[8:24])
				sources[fmt.Sprintf("%s %d/%d", src, ip[40], ip[41])] = true
			}
		}
	}
	return sources
}

// diagram(false) clears the console's picture and stops recording; diagram(true) records again,
// and a socket still open keeps the name label gave it.
func TestDiagramClearAtTheConsole(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "console.json")
	r := udplab(t, `old = socket(AF_INET, SOCK_DGRAM) label(old, "server") bind(old, "127.0.0.1", 0)
c = socket(AF_INET, SOCK_DGRAM) connect(c, getsockname(old)) send(c, "first demo")
diagram(false)
send(c, "while off")
diagram(true)
send(c, "second demo") recv(old, 100)
`+fmt.Sprintf("diagram(%q)\n", out))
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v: %+v", err, r)
	}
	m, err := diagram.ParseModel(b)
	if err != nil {
		t.Fatal(err)
	}
	var data []string
	for _, e := range m.Events {
		if e.Kind == "datagram" {
			data = append(data, e.Data)
		}
		if e.Kind == "call" && e.Call != "send" && e.Call != "recv" {
			t.Errorf("a call from before diagram(true): %+v", e)
		}
	}
	if !slices.Equal(data, []string{`"second demo"`}) {
		t.Errorf("datagrams on the picture: %q, want the second demo's alone", data)
	}
	roles := map[string]bool{}
	for _, l := range m.Lifelines {
		roles[l.Role] = true
	}
	if !roles["server"] {
		t.Errorf("the server lost its name: %+v", m.Lifelines)
	}
}

// --diagram FILE.svg --fit WxH draws the picture for that screen: as wide, its text at least
// 24 px for refused.lua's few lifelines; --fit without a picture to size, or with a size that is
// not one, is refused before anything runs.
func TestDiagramFit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "refused.svg")
	r := udplab(t, "g1\n", "--diagram", out, "--fit", "1920x1080", "scripts/refused.lua", "127.0.0.1", fmt.Sprint(freePort(t)))
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("%v: %+v", err, r)
	}
	shape, err := diagram.ReadSVG(bytes.NewReader(b))
	if err != nil || shape.Width != 1920 || shape.Height > 1080 || shape.FontPx < 24 {
		t.Errorf("refused.lua fitted to 1920x1080: %.0fx%.0f, text of %.1f px (%v)", shape.Width, shape.Height, shape.FontPx, err)
	}
	for _, args := range [][]string{
		{"--fit", "1920x1080", "-e", "print(1)"},
		{"--diagram", filepath.Join(dir, "m.json"), "--fit", "1920x1080", "-e", "print(1)"},
		{"--diagram", out, "--fit", "1920", "-e", "print(1)"},
		{"--diagram", out, "--fit"},
	} {
		if r := udplab(t, "", args...); r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "fit") {
			t.Errorf("udplab %q: %+v, want status 2 and why", args, r)
		}
	}
}
