package lab

import (
	"fmt"
	"strings"
	"testing"
)

func TestOneLAN(t *testing.T) {
	s, err := OneLAN([]string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"10.0.0.1 fd00::1", "10.0.0.2 fd00::2", "10.0.0.3 fd00::3"} {
		h := s.Hosts[i]
		if got := h.Addr4[0].String() + " " + h.Addr6[0].String(); got != want || h.Router() {
			t.Errorf("host %s: %s (router %v), want %s", h.Name, got, h.Router(), want)
		}
	}
}

func TestPlanWithRouter(t *testing.T) {
	s, err := Plan(map[string]string{"left": "10.1.0.0/24", "right": "10.2.0.0/24"},
		map[string][]string{"a": {"left"}, "b": {"right"}, "r": {"left", "right"}})
	if err != nil {
		t.Fatal(err)
	}
	a, r := &s.Hosts[0], &s.Hosts[2]
	if a.Name != "a" || r.Name != "r" || !r.Router() {
		t.Fatalf("hosts %+v", s.Hosts)
	}
	if gw := s.Gateway(a, a.LANs[0]); gw != 2 {
		t.Errorf("a's gateway is host %d, want r", gw)
	}
	if v4, v6, _ := r.AddrOn(1); v4.String() != "10.2.0.2" || v6.String() != "fd00:0:0:1::2" {
		t.Errorf("r on right: %s %s", v4, v6)
	}
}

func TestPlanRefuses(t *testing.T) {
	lans := map[string]string{"lan": "10.0.0.0/24"}
	for _, tc := range []struct {
		lans  map[string]string
		hosts map[string][]string
		want  string
	}{
		{lans, map[string][]string{"A": {"lan"}}, "host name"},
		{lans, map[string][]string{"close": {"lan"}}, "host name"},
		{lans, map[string][]string{"a": {"nowhere"}}, `no LAN "nowhere"`},
		{lans, map[string][]string{"a": {"lan", "lan"}}, "twice"},
		{lans, map[string][]string{}, "needs a host"},
		{map[string]string{}, map[string][]string{"a": {"lan"}}, "needs a LAN"},
		{map[string]string{"lan": "10.0.0.0/31"}, map[string][]string{"a": {"lan"}}, "from /8 to /30"},
		{map[string]string{"lan": "10.0.0.0/7"}, map[string][]string{"a": {"lan"}}, "from /8 to /30"},
		{map[string]string{"lan": "127.0.0.0/24"}, map[string][]string{"a": {"lan"}}, "loopback"},
		{map[string]string{"lan": "0.0.0.0/8"}, map[string][]string{"a": {"lan"}}, `"this network"`},
		{map[string]string{"lan": "224.1.0.0/16"}, map[string][]string{"a": {"lan"}}, "multicast"},
		{map[string]string{"lan": "169.254.0.0/16"}, map[string][]string{"a": {"lan"}}, "link-local"},
		{map[string]string{"lan": "255.255.255.0/24"}, map[string][]string{"a": {"lan"}}, "class E"},
		{map[string]string{"lan": "fd00::/64"}, map[string][]string{"a": {"lan"}}, "IPv4 prefix"},
		{map[string]string{"x": "10.0.0.0/16", "y": "10.0.1.0/24"}, map[string][]string{"a": {"x"}}, "overlap"},
		{map[string]string{"lan": "10.0.0.0/30"}, map[string][]string{"a": {"lan"}, "b": {"lan"}, "c": {"lan"}}, "too small"},
	} {
		if _, err := Plan(tc.lans, tc.hosts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Plan(%v, %v) = %v, want an error saying %q", tc.lans, tc.hosts, err, tc.want)
		}
	}
	many := make([]string, MaxHosts+1)
	for i := range many {
		many[i] = "h" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	if _, err := OneLAN(many); err == nil {
		t.Errorf("%d hosts accepted", len(many))
	}
	if _, err := OneLAN([]string{"a", "a"}); err == nil {
		t.Error("a host named twice accepted")
	}
}

// A LAN that no router joins has a gateway nobody holds, the last address before its broadcast;
// a LAN with a router has none (its hosts route through the router), nor a LAN full of hosts.
func TestPlanGateways(t *testing.T) {
	// "last": a /29 whose six addresses six hosts hold
	s, err := Plan(map[string]string{"left": "10.1.0.0/24", "right": "10.2.0.0/24", "alone": "192.168.7.0/23", "full": "10.3.0.0/30", "last": "10.4.0.0/29"},
		map[string][]string{"a": {"left"}, "b": {"right"}, "r": {"left", "right"}, "c": {"alone"}, "d": {"full"}, "e": {"full"},
			"f": {"last"}, "g": {"last"}, "h": {"last"}, "i": {"last"}, "j": {"last"}, "k": {"last"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range s.LANs {
		got[l.Name] = fmt.Sprint(l.Gateway4, " ", l.Gateway6, " ", l.DefaultOnLink)
	}
	want := map[string]string{"alone": "192.168.7.254 fd00::1fe false", "full": "invalid IP invalid IP true",
		"left": "invalid IP invalid IP false", "right": "invalid IP invalid IP false",
		"last": "invalid IP invalid IP true"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("LAN %s: gateway %s, want %s", k, got[k], v)
		}
	}
}

// chainPlan is 16 LANs in a row (l00 to l15, 10.0.N.0/24), joined by routers r01 to r15 (rN on
// l(N-1) and lN), with host a on l00, m on l07 and z on l15.
func chainPlan(t testing.TB) *Spec {
	t.Helper()
	lans := map[string]string{}
	hosts := map[string][]string{"a": {"l00"}, "m": {"l07"}, "z": {"l15"}}
	for i := 0; i < 16; i++ {
		lans[fmt.Sprintf("l%02d", i)] = fmt.Sprintf("10.0.%d.0/24", i)
		if i > 0 {
			hosts[fmt.Sprintf("r%02d", i)] = []string{fmt.Sprintf("l%02d", i-1), fmt.Sprintf("l%02d", i)}
		}
	}
	s, err := Plan(lans, hosts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hostIndex is the index of the host named name in s.
func hostIndex(s *Spec, name string) int {
	for i := range s.Hosts {
		if s.Hosts[i].Name == name {
			return i
		}
	}
	return -1
}

// In a chain, a host at an end needs no route beyond its default one; a host in the middle
// reaches the LANs on its gateway's other side through the other router of its LAN; a router
// reaches every LAN through the router next to it on that side.
func TestRoutesOfAChain(t *testing.T) {
	s := chainPlan(t)
	describe := func(name string) string {
		var b strings.Builder
		for _, r := range s.Routes(hostIndex(s, name)) {
			fmt.Fprintf(&b, "%s via %s eth%d; ", s.LANs[r.LAN].Name, r.Via4, r.Link)
		}
		return b.String()
	}
	for _, c := range []struct{ host, want string }{
		{"a", ""},
		{"z", ""},
		// m's gateway is r07 (the first router of l07); r08 holds 10.0.7.3 there
		{"m", "l08 via 10.0.7.3 eth0; l09 via 10.0.7.3 eth0; l10 via 10.0.7.3 eth0; l11 via 10.0.7.3 eth0; " +
			"l12 via 10.0.7.3 eth0; l13 via 10.0.7.3 eth0; l14 via 10.0.7.3 eth0; l15 via 10.0.7.3 eth0; "},
		// r03 is on l02 (eth0) and l03 (eth1); r02 holds 10.0.2.1 on l02, r04 10.0.3.2 on l03
		{"r03", "l00 via 10.0.2.1 eth0; l01 via 10.0.2.1 eth0; l04 via 10.0.3.2 eth1; l05 via 10.0.3.2 eth1; " +
			"l06 via 10.0.3.2 eth1; l07 via 10.0.3.2 eth1; l08 via 10.0.3.2 eth1; l09 via 10.0.3.2 eth1; " +
			"l10 via 10.0.3.2 eth1; l11 via 10.0.3.2 eth1; l12 via 10.0.3.2 eth1; l13 via 10.0.3.2 eth1; " +
			"l14 via 10.0.3.2 eth1; l15 via 10.0.3.2 eth1; "},
	} {
		if got := describe(c.host); got != c.want {
			t.Errorf("routes of %s:\n got %s\nwant %s", c.host, got, c.want)
		}
	}
}
