package luabind

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/udplab/udplab/lab"
)

func TestMain(m *testing.M) {
	lab.RunHelperIfAsked() // network{} starts this test binary as its helper
	os.Exit(m.Run())
}

// Bad input to the lab's calls is an argument error; what the kernel refuses is data.
func TestLabBadInputs(t *testing.T) {
	var out bytes.Buffer
	L, _ := newState(t, &out)
	if err := runChunk(L, `net, msg = network{"a", "b"}; if not net then print(msg) end`); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "user namespaces") {
		t.Skip(out.String())
	}
	defer runChunk(L, `net:close()`)
	for _, tc := range []struct{ code, want string }{
		{`network{"A"}`, `raise: bad argument #1 to 'network' (host name "A": use a-z and 0-9, starting with a letter, at most 12 characters (not close, hosts, lans))`},
		{`network{"abcdefghijklm"}`, `raise: bad argument #1 to 'network' (host name "abcdefghijklm": use a-z and 0-9, starting with a letter, at most 12 characters (not close, hosts, lans))`},
		{`network{"a", lans = {x = "10.1.0.0/24"}, hosts = {b = "x"}}`, `raise: bad argument #1 to 'network' (give host names {"a", "b"}, or lans = {...} and hosts = {...}, not both)`},
		{`network{"a", host = "x"}`, `raise: bad argument #1 to 'network' (unknown field 'host' (a list of host names, or lans and hosts; icmp_ratelimit))`},
		{`network{lans = {x = "10.1.0.0/24"}, hosts = {a = "x"}, lan = 1}`, `raise: bad argument #1 to 'network' (unknown field 'lan' (a list of host names, or lans and hosts; icmp_ratelimit))`},
		{`network{"a", icmp_ratelimit = 0.5}`, `raise: bad argument #1 to 'network' (icmp_ratelimit: the milliseconds between two ICMP errors to one destination, a whole number from 0 (no limit) to 60000; got 0.5)`},
		{`network{lans = {x = "0.0.0.0/0"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LAN x: "0.0.0.0/0" is not an IPv4 prefix from /8 to /30 ("10.1.0.0/24"))`},
		{`network{lans = {x = "0.0.0.0/8"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LAN x: 0.0.0.0/8 is within "this network" (0.0.0.0/8): give a private prefix such as 10.1.0.0/24 or 192.168.1.0/24)`},
		{`network{lans = {x = "127.0.0.0/24"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LAN x: 127.0.0.0/24 is within loopback (127.0.0.0/8): give a private prefix such as 10.1.0.0/24 or 192.168.1.0/24)`},
		{`network{lans = {x = "224.0.0.0/24"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LAN x: 224.0.0.0/24 is within multicast (224.0.0.0/4): give a private prefix such as 10.1.0.0/24 or 192.168.1.0/24)`},
		{`network{lans = {x = "240.0.0.0/24"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LAN x: 240.0.0.0/24 is within reserved, class E and broadcast (240.0.0.0/4): give a private prefix such as 10.1.0.0/24 or 192.168.1.0/24)`},
		{`network{lans = {x = "169.254.1.0/24"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LAN x: 169.254.1.0/24 is within link-local (169.254.0.0/16): give a private prefix such as 10.1.0.0/24 or 192.168.1.0/24)`},
		{`network{"a", "a"}`, `raise: bad argument #1 to 'network' (host "a" is named twice)`},
		{`network{}`, `raise: bad argument #1 to 'network' (give host names {"a", "b"}, or lans = {...} and hosts = {...})`},
		{`network{lans = {x = "10.0.0.0/16", y = "10.0.1.0/24"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LANs x and y overlap)`},
		{`network{lans = {x = "fd00::/64"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LAN x: "fd00::/64" is not an IPv4 prefix from /8 to /30 ("10.1.0.0/24"))`},
		{`network(5)`, `raise: bad argument #1 to 'network' (table expected, got number)`},
		{`net.a:nat("lan")`, `raise: bad argument #2 to 'nat' (host a is on one LAN: only a router can translate addresses)`},
		{`net.a:firewall("allow")`, `raise: bad argument #2 to 'firewall' ("drop", "reject" or nil expected)`},
		{`net.a:impair{loss = 2}`, `raise: bad argument #2 to 'impair' (impairment loss is the share of datagrams lost, within 0..1 (0.2: one in five); got 2)`},
		{`net.a:impair{loss = -0.1}`, `raise: bad argument #2 to 'impair' (impairment loss is the share of datagrams lost, within 0..1 (0.2: one in five); got -0.1)`},
		{`net.a:impair{delay = 61}`, `raise: bad argument #2 to 'impair' (impairment delay is in seconds, within 0..60 (0.05: 50 ms); got 61)`},
		{`net.a:impair{loss = "x"}`, `raise: bad argument #2 to 'impair' (impairment loss must be a number, got string)`},
		{`net.a.addr = "1.2.3.4"`, `raise: host a cannot be changed (field 'addr'): the lab made it, and the kernel would not follow`},
		{`net.a.addrs.lan = "1.2.3.4"`, `raise: host a's addresses cannot be changed (field 'lan'): the lab made it, and the kernel would not follow`},
		{`net.z = 1`, `raise: a network cannot be changed (field 'z'): the lab made it, and the kernel would not follow`},
		{`setmetatable(net.a, {})`, `raise: cannot change a protected metatable`},
		{`print(net.a.addr, net.a.addrs.lan, net.a.name, net.z)`, "10.0.0.1\t10.0.0.1\ta\tnil\n"},
		{`net.a:socket(AF_PACKET, SOCK_DGRAM)`, "raise: bad argument #2 to 'socket' (udplab has IP sockets only (AF_INET, AF_INET6); --wire shows the frames)"},
		{`socket(AF_PACKET, SOCK_DGRAM)`, "raise: bad argument #1 to 'socket' (udplab has IP sockets only (AF_INET, AF_INET6); --wire shows the frames)"},
		{`net.a:impair{rate = "fast"}`, `raise: bad argument #2 to 'impair' (impairment rate: give bytes per second, or "1mbit", "500kbit", "2mbps")`},
		{`net.a.socket({}, AF_INET, SOCK_DGRAM)`, `raise: bad argument #1 to 'socket' (host expected, got table)`},
		{`net.a:socket(AF_INET, SOCK_STREAM)`, "raise: bad argument #3 to 'socket' (udplab has datagram sockets only (SOCK_DGRAM))"},
		{`print(net.a:socket(12345, SOCK_DGRAM))`, "nil\tAddress family not supported by protocol\t97\n"},
		{`print(net.a:impair{rate = "1mbit"}, net.a:impair(), net.b:firewall("drop"), net.b:firewall(nil))`, "0\t0\t0\t0\n"},
		{`print(tostring(net), tostring(net.b))`, "network(a, b)\thost b (10.0.0.2, fd00::2)\n"},
	} {
		out.Reset()
		err := runChunk(L, tc.code)
		got := out.String()
		if err != nil {
			got = "raise: " + strings.TrimPrefix(err.Error(), "<string>:1: ")
			got = strings.SplitN(got, "\n", 2)[0]
		}
		if got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.code, got, tc.want)
		}
	}
	// NaN is within no range (its text is the number formatter's, not the lab's).
	if err := runChunk(L, `net.a:impair{loss = 0/0}`); err == nil || !strings.Contains(err.Error(), "impairment loss is the share of datagrams lost") {
		t.Errorf("impair{loss = 0/0}: %v", err)
	}
}
