package luabind

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// lineCounter counts the wire view's lines as the tracer writes them: the datagrams the capture
// showed, and its reports of frames it lost.
type lineCounter struct {
	mu      sync.Mutex
	partial []byte
	frames  int
	drops   []string
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		line := string(c.partial[:i])
		c.partial = c.partial[i+1:]
		switch {
		case strings.Contains(line, " UDP len "):
			c.frames++
		case strings.Contains(line, "dropped by the capture"):
			c.drops = append(c.drops, line)
		}
	}
	return len(p), nil
}

// BenchmarkLabWire is --wire on a lab of 250 hosts on one LAN, for one second of traffic per
// op: 10,000 datagrams, each from the next host to the one after it, sent at an even pace by
// sockets the script did not open (as programs on the hosts would), while the script waits in
// one traced call (poll for a second). The wire view shows every frame on the LAN's bridge
// after that call. It fails when the capture reports a lost frame, or shows fewer datagrams
// than were sent; it reports the frames shown per second.
//
//	go test -run '^$' -bench LabWire -benchtime 3x ./luabind
func BenchmarkLabWire(b *testing.B) {
	var out bytes.Buffer
	L, rt := newState(b, &out)
	if err := runChunk(L, `
		local names = {}
		for i = 1, 250 do names[i] = "h" .. i end
		net, msg = network(names)
		if not net then print(msg) return end
		nap = {socket(AF_INET, SOCK_DGRAM)}`); err != nil {
		b.Fatal(err)
	}
	if strings.Contains(out.String(), "user namespaces") {
		b.Skip(out.String())
	}
	defer runChunk(L, `net:close()`)
	n := rt.labs[0]
	fds := make([]int, len(n.Spec.Hosts))
	dsts := make([]unix.Sockaddr, len(fds))
	for i, h := range n.Spec.Hosts {
		fd, err := n.Socket(h.Name, unix.AF_INET, unix.SOCK_DGRAM, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer sock.CloseFD(fd)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: 9000}); err != nil {
			b.Fatal(err)
		}
		fds[i], dsts[i] = fd, &unix.SockaddrInet4{Port: 9000, Addr: h.Addr4[0].As4()}
	}
	var wire lineCounter
	rt.StartWire(&wire)
	const rate = 10000
	for b.Loop() {
		sent := make(chan error, 1)
		go func() {
			t0 := time.Now()
			for i := 0; i < rate; i++ {
				if ahead := time.Duration(i)*time.Second/rate - time.Since(t0); ahead > time.Millisecond {
					time.Sleep(ahead)
				}
				if err := unix.Sendto(fds[i%len(fds)], []byte("x"), 0, dsts[(i+1)%len(fds)]); err != nil {
					sent <- err
					return
				}
			}
			sent <- nil
		}()
		if err := runChunk(L, "poll(nap, 1)"); err != nil {
			b.Fatal(err)
		}
		if err := <-sent; err != nil {
			b.Fatal(err)
		}
	}
	rt.FlushWire()
	wire.mu.Lock()
	frames, drops := wire.frames, wire.drops
	wire.mu.Unlock()
	if len(drops) > 0 {
		b.Fatalf("the capture lost frames: %s", strings.Join(drops, "; "))
	}
	if want := b.N * rate; frames < want {
		b.Fatalf("the capture showed %d datagrams of the %d sent", frames, want)
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}
