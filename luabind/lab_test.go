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
		{`network{"A"}`, `raise: bad argument #1 to 'network' (host name "A": use a-z and 0-9, starting with a letter, at most 12 (not close, hosts, lans))`},
		{`network{"a", "a"}`, `raise: bad argument #1 to 'network' (host "a" is named twice)`},
		{`network{}`, `raise: bad argument #1 to 'network' (give host names {"a", "b"}, or lans = {...} and hosts = {...})`},
		{`network{lans = {x = "10.0.0.0/16", y = "10.0.1.0/24"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LANs x and y overlap)`},
		{`network{lans = {x = "fd00::/64"}, hosts = {a = "x"}}`, `raise: bad argument #1 to 'network' (LAN x: "fd00::/64" is not an IPv4 prefix of /30 or wider ("10.1.0.0/24"))`},
		{`network(5)`, `raise: bad argument #1 to 'network' (table expected, got number)`},
		{`net.a:nat("lan")`, `raise: bad argument #2 to 'nat' (host a is on one LAN: only a router can translate addresses)`},
		{`net.a:firewall("allow")`, `raise: bad argument #2 to 'firewall' ("drop", "reject" or nil expected)`},
		{`net.a:impair{loss = 2}`, `raise: bad argument #2 to 'impair' (impairment loss must be a number (loss within 0..1, delay within 0..60 seconds))`},
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
}
