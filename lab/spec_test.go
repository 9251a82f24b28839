package lab

import (
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
	s, err := Plan(map[string]string{"left": "10.1.0.0/24", "right": "10.2.0.0/24", "alone": "192.168.7.0/23", "full": "10.3.0.0/30"},
		map[string][]string{"a": {"left"}, "b": {"right"}, "r": {"left", "right"}, "c": {"alone"}, "d": {"full"}, "e": {"full"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, l := range s.LANs {
		got[l.Name] = l.Gateway4.String() + " " + l.Gateway6.String()
	}
	want := map[string]string{"alone": "192.168.7.254 fd00::1fe", "full": "invalid IP invalid IP",
		"left": "invalid IP invalid IP", "right": "invalid IP invalid IP"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("LAN %s: gateway %s, want %s", k, got[k], v)
		}
	}
}
