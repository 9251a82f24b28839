package lab

import (
	"fmt"
	"testing"
)

// BenchmarkLab makes a lab and waits until it is ready (every link up at both ends, the state
// in which Start returns), then takes it down, untimed. One LAN of 1, 50 and 250 hosts give the
// cost of a host; 16 LANs in a row joined by 15 routers, with 16 more hosts (one per LAN) or 235
// (250 in all), beside one LAN of 31 hosts, give the cost of a LAN. The goal: a 250-host lab,
// of one LAN or of 16, ready in at most 3 s.
//
//	go test -run '^$' -bench Lab -benchtime 5x ./lab
func BenchmarkLab(b *testing.B) {
	oneLAN := func(n int) func(testing.TB) *Spec {
		return func(t testing.TB) *Spec {
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("h%d", i)
			}
			s, err := OneLAN(names)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	for _, c := range []struct {
		name string
		spec func(testing.TB) *Spec
	}{
		{"lans=1/hosts=1", oneLAN(1)},
		{"lans=1/hosts=31", oneLAN(31)},
		{"lans=1/hosts=50", oneLAN(50)},
		{"lans=1/hosts=250", oneLAN(250)},
		{"lans=16/hosts=31", chain(15 + 16)},
		{"lans=16/hosts=250", chain(250)},
	} {
		b.Run(c.name, func(b *testing.B) {
			spec := c.spec(b)
			for b.Loop() {
				n, err := Start(spec)
				if err != nil {
					b.Skipf("no lab here: %v", err)
				}
				b.StopTimer()
				n.Close()
				b.StartTimer()
			}
		})
	}
}

// chain plans 16 LANs in a row (l00 to l15) joined by routers r01 to r15, with hosts in all,
// the others spread over the LANs in turn.
func chain(hosts int) func(testing.TB) *Spec {
	return func(t testing.TB) *Spec {
		lans, plan := map[string]string{}, map[string][]string{}
		for i := 0; i < 16; i++ {
			lans[fmt.Sprintf("l%02d", i)] = fmt.Sprintf("10.%d.0.0/24", i)
			if i > 0 {
				plan[fmt.Sprintf("r%02d", i)] = []string{fmt.Sprintf("l%02d", i-1), fmt.Sprintf("l%02d", i)}
			}
		}
		for i := 0; len(plan) < hosts; i++ {
			plan[fmt.Sprintf("h%03d", i)] = []string{fmt.Sprintf("l%02d", i%16)}
		}
		s, err := Plan(lans, plan)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}
