package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// labChunk builds a lab of three hosts and checks, from inside them, what a user would: a
// datagram across the LAN on IPv4 and IPv6 with the sender's address, a refusal from another
// host, a broadcast reaching the others.
const labChunk = `local net = assert(network{"a", "b", "c"})
for _, v in ipairs({{AF_INET, "addr"}, {AF_INET6, "addr6"}}) do
  local fam, key = v[1], v[2]
  local r = net.b:socket(fam, SOCK_DGRAM); assert(bind(r, net.b[key], 43211))
  local s = net.a:socket(fam, SOCK_DGRAM); assert(connect(s, net.b[key], 43211))
  assert(send(s, "g1")); settimeout(r, 2)
  local d, from = recvfrom(r, 100)
  print(key, d, from and from.addr == net.a[key])
end
local s = net.a:socket(AF_INET, SOCK_DGRAM); connect(s, net.b.addr, 9); send(s, "x"); settimeout(s, 2)
print("refused", select(3, recv(s, 10)))
local rb = net.b:socket(AF_INET, SOCK_DGRAM); bind(rb, "0.0.0.0", 43300); settimeout(rb, 2)
local rc = net.c:socket(AF_INET, SOCK_DGRAM); bind(rc, "0.0.0.0", 43300); settimeout(rc, 2)
local bs = net.a:socket(AF_INET, SOCK_DGRAM); setsockopt(bs, SOL_SOCKET, SO_BROADCAST, 1)
print("bcast", sendto(bs, "all", "10.0.0.255", 43300), recv(rb, 10), recv(rc, 10))
net:close()`

const labWant = "addr\tg1\ttrue\naddr6\tg1\ttrue\nrefused\t111\nbcast\t3\tall\tall\n"

// linkCount is the number of network interfaces of this machine's namespace.
func linkCount(t *testing.T) int {
	t.Helper()
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	return len(ifs)
}

// publicUdplab copies the test binary (which answers as udplab) where any user may run it.
func publicUdplab(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "udplab-public")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	path := filepath.Join(dir, "udplab")
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
	return path
}

// helpersWith counts the processes whose environment holds mark: the labs' helpers of one run.
func helpersWith(mark string) int {
	n := 0
	envs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, e := range envs {
		if b, err := os.ReadFile(e); err == nil && bytes.Contains(b, []byte(mark)) {
			n++
		}
	}
	return n
}

// The lab as root and as an unprivileged user: hosts, IPv4 and IPv6, a remote refusal and a
// broadcast; nothing left in this machine's namespace.
func TestLab(t *testing.T) {
	before := linkCount(t)
	r := udplab(t, "", "-e", labChunk)
	if r.stdout != labWant || r.code != 0 {
		t.Fatalf("as %d: %+v", os.Geteuid(), r)
	}
	if os.Geteuid() == 0 {
		exe := publicUdplab(t)
		ctx, cancel := context.WithTimeout(context.Background(), runBound)
		defer cancel()
		cmd := exec.CommandContext(ctx, exe, "-e", labChunk)
		cmd.Dir = "/"
		cmd.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil || out.String() != labWant {
			t.Fatalf("as nobody: %v, stdout %q, stderr %q", err, out.String(), errb.String())
		}
	}
	if after := linkCount(t); after != before {
		t.Errorf("this machine's namespace had %d links, has %d", before, after)
	}
}

// kill -9 while a lab is up leaves no helper, namespace or link behind.
func TestLabKilled(t *testing.T) {
	before := linkCount(t)
	b := make([]byte, 8)
	rand.Read(b)
	mark := "UDPLAB_TEST_MARK=" + hex.EncodeToString(b)
	cmd := exec.Command("udplab", "-e", `local net = network{"a", "b"}; local r = net.b:socket(AF_INET, SOCK_DGRAM)
		bind(r, net.b.addr, 5); print("up"); io.stdout:flush(); recv(r, 10)`)
	cmd.Env = append(os.Environ(), mark)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "up\n")
	if n := helpersWith(mark); n != 2 { // udplab and its helper
		t.Errorf("%d processes carry the mark while the lab is up, want udplab and its helper", n)
	}
	cmd.Process.Kill()
	cmd.Wait()
	for deadline := time.Now().Add(runBound); helpersWith(mark) > 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
	}
	if n := helpersWith(mark); n > 0 {
		t.Errorf("%d of the lab's processes outlived kill -9", n)
	}
	if after := linkCount(t); after != before {
		t.Errorf("this machine's namespace had %d links, has %d", before, after)
	}
}

// Every lan script runs, as root, and ends with its verdict, leaving no link behind.
func TestLanScripts(t *testing.T) {
	before := linkCount(t)
	paths, _ := filepath.Glob("scripts/lan/*.lua")
	if len(paths) < 6 {
		t.Fatalf("%d lan scripts", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := udplab(t, "", path)
			t.Logf("%s took %v", path, time.Since(start))
			lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
			if r.code != 0 || !strings.HasPrefix(lines[len(lines)-1], "verdict: ") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
	t.Cleanup(func() {
		if after := linkCount(t); after != before {
			t.Errorf("this machine's namespace had %d links, has %d", before, after)
		}
	})
}

// Ctrl-C at the console while a call on a lab socket blocks returns to the prompt and leaves the
// lab working: the helper is in a session of its own, which the terminal's Ctrl-C does not reach.
func TestLabSurvivesCtrlC(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter(`net = network{"a", "b"}`, "\n")
	term.enter(`s = net.b:socket(AF_INET, SOCK_DGRAM) bind(s, net.b.addr, 5000)`, "\n")
	term.enter(`fileno(s)`, "\n")
	fd := lastNumber(t, term.screen())
	term.mark()
	term.typeKeys("recv(s, 10)\r")
	term.waitParked(fd)
	term.typeKeys("\x03")
	term.promptAfter("interrupted", screenWait)
	term.enter(`c = net.a:socket(AF_INET, SOCK_DGRAM)`, "\n") // a lab call after the Ctrl-C
	term.enter(`c`, "in a)")
	term.enter(`connect(c, net.b.addr, 5000) settimeout(s, 5)`, "\n")
	term.enter(`send(c, "hi")`, "\n2\n")
	term.enter(`recv(s, 10)`, "\n\"hi\"\n")
	term.enter(`net.a:down() net.a:up()`, "\n")
	if strings.Contains(term.screen(), "helper") {
		t.Errorf("the lab's helper was hurt:\n%s", term.screen())
	}
}

// childOf returns the pid of a child of pid, or 0 when it has none (yet).
func childOf(pid int) int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after its closing bracket.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		var state string
		var ppid int
		if _, err := fmt.Sscan(string(b[i+1:]), &state, &ppid); err == nil && ppid == pid {
			var child int
			fmt.Sscan(string(b), &child)
			return child
		}
	}
	return 0
}

// kill -9 of the lab's helper, while network{} builds a lab or once it is up, is an error that
// names the cause, within 2 s of the kill, and udplab goes on: never a hang.
func TestLabHelperKilled(t *testing.T) {
	t.Parallel()
	const script = `local names = {}
for i = 1, 32 do names[i] = "h" .. i end
local net, msg, errno = network(names)
print("network", msg, errno)
if net then
  io.read()
  print("socket", select(2, net.h1:socket(AF_INET, SOCK_DGRAM)))
  print("down", select(2, net.h1:down()))
end
print("still here")`
	for _, when := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond, -1} {
		t.Run(fmt.Sprint(when), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), runBound)
			defer cancel()
			cmd := exec.CommandContext(ctx, "udplab", "-e", script)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			var out syncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			helper := 0
			for deadline := time.Now().Add(runBound); helper == 0 && time.Now().Before(deadline); {
				helper = childOf(cmd.Process.Pid)
			}
			if helper == 0 {
				t.Fatalf("no helper appeared: %s", out.String())
			}
			if when < 0 {
				waitOutput(t, &out, "network\tnil\tnil\n") // the lab is up
			} else {
				time.Sleep(when)
			}
			killed := time.Now()
			syscall.Kill(helper, syscall.SIGKILL)
			stdin.Write([]byte("\n"))
			stdin.Close()
			cmd.Wait()
			took := time.Since(killed)
			got := out.String()
			t.Logf("%v after the kill:\n%s", took, got)
			if !strings.Contains(got, "the lab's helper died (killed by signal 9)\t32\n") || !strings.HasSuffix(got, "still here\n") {
				t.Errorf("no error naming the helper's death, or udplab did not go on:\n%s", got)
			}
			if strings.Contains(got, "Broken pipe") {
				t.Errorf("an error that does not name the cause:\n%s", got)
			}
			if took > 2*time.Second {
				t.Errorf("udplab took %v after the helper's death to say so and end", took)
			}
		})
	}
}

// Out of descriptors, a socket opened in a lab host is the same failure as any other socket's:
// nil, "Too many open files", 24; with a descriptor free again, it opens.
func TestLabOutOfDescriptors(t *testing.T) {
	t.Parallel()
	r := shell(t, "", `ulimit -n 64 && exec udplab -e '
		local net = assert(network{"a"})
		local t, s = {}
		repeat
			s = socket(AF_INET, SOCK_DGRAM)
			t[#t + 1] = s
		until not s
		print(net.a:socket(AF_INET, SOCK_DGRAM))
		close(t[1])
		print(net.a:socket(AF_INET, SOCK_DGRAM) ~= nil)'`)
	if r.stdout != "nil\tToo many open files\t24\ntrue\n" || r.code != 0 {
		t.Fatalf("%+v", r)
	}
}

// --wire shows a lab's ARP, datagrams and ICMP errors, as root and as an unprivileged user (who
// cannot capture lo, but may capture in the lab's namespaces).
func TestLabWire(t *testing.T) {
	t.Parallel()
	const chunk = `local net = network{"a", "b"}
local s = net.a:socket(AF_INET, SOCK_DGRAM); connect(s, net.b.addr, 9); send(s, "g1"); settimeout(s, 2)
print(recv(s, 10))`
	want := []string{"ARP who-has b 10.0.0.2 tell a 10.0.0.1", "a 10.0.0.1:", "> b 10.0.0.2:9 UDP len 2 \"g1\"",
		"b 10.0.0.2 > a 10.0.0.1 ICMP port unreachable for UDP a 10.0.0.1:"}
	check := func(who, stdout, stderr string) {
		t.Helper()
		if stdout != "nil\tConnection refused\t111\n" {
			t.Errorf("as %s: stdout %q", who, stdout)
		}
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("as %s: the wire view lacks %q:\n%s", who, w, stderr)
			}
		}
	}
	r := udplab(t, chunk, "--wire", "-")
	check(fmt.Sprint("uid ", os.Geteuid()), r.stdout, r.stderr)
	if os.Geteuid() != 0 {
		return
	}
	exe := publicUdplab(t)
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	pcapDir, err := os.MkdirTemp("", "udplab-nobody-") // not t.TempDir: its parent is root's alone
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(pcapDir) })
	os.Chmod(pcapDir, 0o777) // nobody writes the pcap file there
	cmd := exec.CommandContext(ctx, exe, "--wire", "--pcap", filepath.Join(pcapDir, "run.pcapng"), "-")
	cmd.Dir = "/"
	cmd.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin"}
	cmd.Stdin = strings.NewReader(chunk)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Run()
	check("nobody", out.String(), errb.String())
	if n := strings.Count(errb.String(), "no capture of lo: capturing on lo needs CAP_NET_RAW"); n != 1 {
		t.Errorf("as nobody, with --wire and --pcap, %d lines say lo is not captured, want 1:\n%s", n, errb.String())
	}
}

// unreachable.lua's long case: a host that was reachable goes down, and the sender learns it
// only once its ARP entry went stale (tens of seconds), with IP_RECVERR.
func TestLanUnreachableStale(t *testing.T) {
	if testing.Short() {
		t.Skip("takes up to a minute")
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, "udplab", "scripts/lan/unreachable.lua", "stale")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil || !strings.Contains(string(out), "verdict: a host that was reachable: ") {
		t.Fatalf("%v", err)
	}
}

// Inside a lab host a user is root, as help(network) says: as nobody too, a port below 1024
// binds and a SOCK_RAW socket opens, where on this machine's own namespace they would not.
func TestLabRootInside(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as nobody")
	}
	const chunk = `local net = network{"a"}
local s = net.a:socket(AF_INET, SOCK_DGRAM)
print(bind(s, net.a.addr, 80), net.a:socket(AF_INET, SOCK_RAW, 1) ~= nil)
print(bind(socket(AF_INET, SOCK_DGRAM), "127.0.0.1", 80))
print(socket(AF_INET, SOCK_RAW, 1))`
	exe := publicUdplab(t)
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-e", chunk)
	cmd.Dir = "/"
	cmd.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	want := "0\ttrue\nnil\tPermission denied\t13\nnil\tOperation not permitted\t1\n"
	if err != nil || string(out) != want {
		t.Fatalf("as nobody: %v\n%s\nwant\n%s", err, out, want)
	}
}

// host:exec runs a program in the host's namespace and returns its status and output; bad
// argv and opts are argument errors, a missing or unexecutable program the errno, a program
// that is killed or floods or leaves children behind never hangs udplab.
func TestLabExec(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "data.txt")
	os.WriteFile(notExec, []byte("x"), 0o644)
	mark := fmt.Sprintf("%d.%d", os.Getpid(), time.Now().UnixNano()%1000) // a sleep that is this test's
	chunk := `net = assert(network{"a", "b"})
print(net.a:exec{"sh", "-c", "ip -o -4 addr show | grep -c inet; ip -o link | wc -l"})
print(net.a:exec({"sh", "-c", "cat; echo err >&2; exit 3"}, {stdin = "hello\n"}))
print(net.a:exec{"no-such-program-here"})
print(net.a:exec{"` + notExec + `"})
print(net.a:exec({"sleep", "30"}, {timeout = 0.2}))
print(net.a:exec({"sh", "-c", "echo $UDPLAB_T; pwd"}, {env = {UDPLAB_T = "set"}, cwd = "` + dir + `"}))
print(net.a:exec({"pwd"}, {cwd = "` + dir + `/none"}))
local st, out = net.a:exec{"head", "-c", "100000000", "/dev/zero"}
print(st, #out)
print(net.a:exec({"head", "-c", "1"}, {stdin = string.rep("x", 10000000)}))
print(net.a:exec{"sh", "-c", "sleep ` + mark + ` & echo left"})
net:close() print(net.a:exec{"true"}) net = assert(network{"a", "b"})
for _, bad in ipairs{"'ls -l'", "{}", "{'a\\0b'}", "{'ls'}, {timeout = 'x'}", "{'ls'}, {bogus = 1}", "{'ls', x = 1}", "{'ls'}, {env = {A = {}}}"} do
  print((select(2, pcall(load("return net.a:exec(" .. bad .. ")"))):gsub("^.-:1: ", "")))
end`
	start := time.Now()
	r := udplab(t, "", "-e", chunk)
	took := time.Since(start)
	want := "0\t2\n2\n\t\n" + // lo and eth0 only: the host's own interfaces
		"3\thello\n\terr\n\n" +
		"nil\tno-such-program-here: No such file or directory\t2\n" +
		"nil\t" + notExec + ": Permission denied\t13\n" +
		"nil\tkilled by signal 9\t137\t\t\n" +
		"0\tset\n" + dir + "\n\t\n" +
		"nil\tcwd " + dir + "/none: No such file or directory\t2\n" + // not "pwd: No such file or directory"
		"0\t1048576\n" +
		"0\tx\t\n" +
		"0\tleft\n\t\n" +
		"nil\tthe network is closed\t9\n" +
		"bad argument #1 to 'exec' (a list of arguments expected ({\"prog\", \"arg1\", ...}), got string: no shell runs it, so there is no quoting to get wrong)\n" +
		"bad argument #1 to 'exec' (the list is empty: give the program first, then its arguments)\n" +
		"bad argument #1 to 'exec' (argument 1 of the program holds a zero byte, which no program can receive)\n" +
		"bad argument #2 to 'exec' (opts.timeout: number expected, got string)\n" +
		"bad argument #2 to 'exec' (unknown option 'bogus' (stdin, timeout, env, cwd))\n" +
		"bad argument #1 to 'exec' (a list of arguments expected, with no other key (got x))\n" +
		"bad argument #2 to 'exec' (opts.env.A: string expected, got table)\n"
	if r.stdout != want || r.code != 0 {
		t.Errorf("got  %q\nwant %q\nstderr %q", r.stdout, want, r.stderr)
	}
	if !strings.Contains(r.stderr, "udplab: exec: kept the first 1048576 bytes of head's stdout, dropped 98951424 more") {
		t.Errorf("nothing says the output was cut: %q", r.stderr)
	}
	t.Logf("took %v", took)
	// The sleep that outlived its shell ended with the lab.
	for deadline := time.Now().Add(runBound); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if out, _ := exec.Command("pgrep", "-f", "sleep "+mark).Output(); len(out) == 0 {
			return
		}
	}
	t.Errorf("sleep %s outlived the lab", mark)
}

// --pcap writes what the wire view captures as pcapng: tcpdump reads unreachable.lua's file and
// shows its ARP, the datagram to port 43211 and the ICMP port unreachable; as nobody too (the
// lab's LANs need no privilege). A file that cannot be written, or a Lua script given where the
// file goes, fails at once with status 2.
func TestLabPcap(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("no tcpdump (.ci/run installs it)")
	}
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // nobody writes there too
	os.Chmod(dir, 0o777)
	check := func(who, path string) {
		t.Helper()
		cmd := exec.Command("tcpdump", "-nr", path)
		out, err := cmd.CombinedOutput()
		for _, want := range []string{"ARP, Request who-has 10.0.0.2 tell 10.0.0.1", "> 10.0.0.2.43211: UDP, length 2",
			"IP 10.0.0.2 > 10.0.0.1: ICMP 10.0.0.2 udp port 43211 unreachable"} {
			if err != nil || !strings.Contains(string(out), want) {
				t.Errorf("as %s: tcpdump -r lacks %q (%v):\n%s", who, want, err, out)
			}
		}
	}
	path := filepath.Join(dir, "root.pcapng")
	r := udplab(t, "", "--pcap", path, "scripts/lan/unreachable.lua")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	check(fmt.Sprint("uid ", os.Geteuid()), path)

	// Ctrl-C in the middle of a run leaves a file that reads.
	path = filepath.Join(dir, "interrupted.pcapng")
	cmd := exec.Command("udplab", "--pcap", path, "-e", `local net = network{"a", "b"}
local s = net.a:socket(AF_INET, SOCK_DGRAM); connect(s, net.b.addr, 43211); send(s, "g1"); settimeout(s, 2)
print(recv(s, 10)) io.stdout:flush()
for i = 1, 1e9 do send(s, "more") end`)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "Connection refused")
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	check("an interrupted run", path)

	for _, tc := range []struct{ args, want string }{
		{"--pcap /nonexistent/x.pcapng -e 1", "udplab: cannot write the pcap file: open /nonexistent/x.pcapng: no such file or directory\n"},
		{"--pcap scripts/refused.lua scripts/refused.lua", "udplab: --pcap: scripts/refused.lua is a Lua script: not writing over it (give the output file first: --pcap out.pcapng script.lua)\n"},
		{"--pcap", "udplab: '--pcap' needs a file\n"},
	} {
		r := udplab(t, "", strings.Fields(tc.args)...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("udplab %s: %+v, want status 2 and %q", tc.args, r, tc.want)
		}
	}
	if os.Geteuid() != 0 {
		return
	}
	exe := publicUdplab(t)
	script, _ := filepath.Abs("scripts/lan/unreachable.lua")
	path = filepath.Join(dir, "nobody.pcapng")
	cmd = exec.Command(exe, "--pcap", path, script)
	cmd.Dir = "/"
	cmd.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	nobodyOut, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, nobodyOut)
	}
	check("nobody", path)
}

// At the console, host:exec with no stdin runs the program on the terminal: it reads what is
// typed, and Ctrl-C reaches it (SIGINT, forwarded: the lesson's server prints its count); a
// program that ignores SIGINT is killed 2 s later. Then the console goes on.
func TestLabExecOnTerminal(t *testing.T) {
	t.Parallel()
	term := startTerminal(t, t.TempDir())
	term.enter(`net, why = network{"a", "b"}; print(net and "up" or why)`, "\n")
	if strings.Contains(term.screen(), "user namespaces") {
		t.Skip(term.screen())
	}
	term.mark()
	term.typeKeys(`net.a:exec{"sh", "-c", "read line; echo got $line; exit 4"}` + "\r")
	time.Sleep(200 * time.Millisecond)
	term.typeKeys("typed\r")
	term.promptAfter("got typed", screenWait)
	if !strings.Contains(term.screen(), "got typed\r\n4\r\n") && !strings.Contains(term.screen(), "got typed\n4\n") {
		t.Errorf("no status 4 after the program's line:\n%q", term.screen())
	}
	term.mark()
	port := fmt.Sprint(40000 + os.Getpid()%20000) // a port to know this test's server by
	term.typeKeys(`net.b:exec{"udplab", "udpconnectserver", "` + port + `"}` + "\r")
	// Wait until the server has bound its port, in its host (its handler is set right after).
	portHex := fmt.Sprintf(":%04X ", 40000+os.Getpid()%20000)
	for deadline := time.Now().Add(screenWait); ; time.Sleep(20 * time.Millisecond) {
		out, _ := exec.Command("pgrep", "-f", "udpconnectserver "+port).Output()
		if pid := strings.TrimSpace(string(out)); pid != "" {
			if b, _ := os.ReadFile("/proc/" + strings.Fields(pid)[0] + "/net/udp"); bytes.Contains(b, []byte(portHex)) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never started")
		}
	}
	time.Sleep(100 * time.Millisecond)
	term.typeKeys("\x03")
	term.promptAfter("received 0 datagrams", screenWait)
	term.mark()
	start := time.Now()
	term.typeKeys(`net.a:exec{"sh", "-c", "trap '' INT; echo de''af; sleep 30"}` + "\r")
	term.waitFor("deaf", screenWait) // the program's line, not the typed one
	term.typeKeys("\x03")
	term.promptAfter("interrupted", screenWait)
	if took := time.Since(start); took > 10*time.Second || took < 2*time.Second {
		t.Errorf("a program that ignores SIGINT ended %v after it started; want SIGKILL 2 s after the Ctrl-C", took)
	}
	term.enter(`print("still" .. " here")`, "\nstill here\n")
}

// Programs started in a lab end with it, whatever ends udplab: kill -9 while a program blocks in
// recvfrom (and its child sleeps) leaves no process behind; so does Ctrl-C at a script; stop()
// of a program that ignores SIGINT kills it 2 s later.
func TestLabProgramsEndWithTheLab(t *testing.T) {
	t.Parallel()
	mark := fmt.Sprintf("%d%d", os.Getpid(), time.Now().UnixNano()%100000)
	left := func() string {
		out, _ := exec.Command("pgrep", "-af", mark).Output()
		return strings.TrimSpace(string(out))
	}
	waitGone := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(runBound); left() != "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		}
		if l := left(); l != "" {
			t.Errorf("%s: processes left behind:\n%s", what, l)
		}
	}
	script := `local net = assert(network{"a", "b"})
net.b:spawn{"udplab", "-e", "local s = socket(AF_INET, SOCK_DGRAM); bind(s, '0.0.0.0', 5000); recvfrom(s, 10) -- ` + mark + `"}
net.a:spawn{"sh", "-c", "sleep 100` + mark[len(mark)-3:] + ` & sleep 200; : ` + mark + `"}
print("up") io.stdout:flush()
io.read()`
	for _, how := range []string{"kill -9", "Ctrl-C"} {
		cmd := exec.Command("udplab", "-e", script)
		stdin, _ := cmd.StdinPipe()
		defer stdin.Close()
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitOutput(t, &out, "up\n")
		if left() == "" {
			t.Fatalf("the programs are not running:\n%s", out.String())
		}
		if how == "kill -9" {
			cmd.Process.Kill()
		} else {
			cmd.Process.Signal(syscall.SIGINT)
		}
		cmd.Wait()
		waitGone(how)
	}
	if out, _ := exec.Command("pgrep", "-f", "sleep 100"+mark[len(mark)-3:]).Output(); len(out) > 0 {
		t.Errorf("a program's child outlived the lab: %s", out)
	}
	// A program that ignores SIGINT: stop() kills it 2 s later.
	start := time.Now()
	r := udplab(t, "", "-e", `local net = assert(network{"a"})
local j = net.a:spawn{"sh", "-c", "trap '' INT; echo ready; sleep 30"}
print(stop(j))`)
	if took := time.Since(start); r.stdout != "[a sh] ready\n[a sh] ended, killed by signal 9\n137\n" || took < 2*time.Second || took > runBound/2 {
		t.Errorf("stop of a program deaf to SIGINT: %q after %v (stderr %q)", r.stdout, took, r.stderr)
	}
}

// The lesson's C programs, compiled by programs.lua, print the lesson's transcripts on a lab's
// hosts and across its NAT, as an unprivileged user too.
func TestLanProgramsAsNobody(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as nobody")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler (.ci/run installs gcc)")
	}
	exe := publicUdplab(t)
	script, _ := filepath.Abs("scripts/lan/programs.lua")
	ctx, cancel := context.WithTimeout(context.Background(), runBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, script)
	cmd.Dir = "/"
	cmd.Env = []string{"HOME=/nonexistent", "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\nverdict: the lesson's C programs printed the lesson's transcripts") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}

// What help(ERRNO) says a student meets each errno for on a lab host (luabind's labErrnos), tried
// on a lab: a router (on two LANs) has no default route, so a send off its LANs, and IPv4
// multicast without IP_MULTICAST_IF, fail with ENETUNREACH, while a host on one LAN sends
// multicast without it; with IP_RECVERR a host learns ENETUNREACH from the router it sent
// through (ICMP net unreachable), and without it only times out; the others as help says.
func TestLabErrnosAsHelpSays(t *testing.T) {
	t.Parallel()
	r := udplab(t, "", "-e", `
local net = assert(network{lans = {left = "10.1.0.0/24", right = "10.2.0.0/24"}, hosts = {a = "left", b = "left", r = {"left", "right"}, d = "right"}})
local function errno(...) local r = table.pack(...) return r[1] == nil and r[3] or "ok" end
local r = net.r:socket(AF_INET, SOCK_DGRAM)
print("router off its LANs", errno(sendto(r, "x", "192.0.2.1", 9)), errno(connect(r, "192.0.2.1", 9)))
print("router multicast", errno(sendto(r, "x", "239.1.2.3", 43300)))
setsockopt(r, IPPROTO_IP, IP_MULTICAST_IF, net.r.addrs.left)
print("router multicast with IP_MULTICAST_IF", errno(sendto(r, "x", "239.1.2.3", 43300)))
local a = net.a:socket(AF_INET, SOCK_DGRAM)
print("host multicast", errno(sendto(a, "x", "239.1.2.3", 43300)))
for _, recverr in ipairs({0, 1}) do
  local c = net.a:socket(AF_INET, SOCK_DGRAM); settimeout(c, 1)
  setsockopt(c, IPPROTO_IP, IP_RECVERR, recverr)
  connect(c, "192.0.2.1", 9); send(c, "x")
  print("host through the router, IP_RECVERR " .. recverr, errno(recv(c, 10)))
end
print("broadcast", errno(sendto(a, "x", "10.1.0.255", 9)))
print("bind another's", errno(bind(a, net.b.addr, 0)))
local srv = net.b:socket(AF_INET, SOCK_DGRAM); bind(srv, net.b.addr, 43211)
local c = net.a:socket(AF_INET, SOCK_DGRAM); settimeout(c, 1); connect(c, net.b.addr, 43211)
net.b:firewall("drop"); send(c, "x"); print("firewall drop", errno(recv(c, 10)))
net.b:firewall("reject"); send(c, "x"); print("firewall reject", errno(recv(c, 10)))
net.b:firewall(nil); close(srv); send(c, "x"); print("port closed", errno(recv(c, 10)))
net:close()
print("closed network", errno(net.a:socket(AF_INET, SOCK_DGRAM)))`)
	want := `router off its LANs	101	101
router multicast	101
router multicast with IP_MULTICAST_IF	ok
host multicast	ok
host through the router, IP_RECVERR 0	11
host through the router, IP_RECVERR 1	101
broadcast	13
bind another's	99
firewall drop	11
firewall reject	113
port closed	111
closed network	9
`
	if r.stdout != want || r.code != 0 {
		t.Errorf("got (exit %d):\n%s\nwant:\n%s\nstderr: %s", r.code, r.stdout, want, r.stderr)
	}
}
