package sock

import (
	"context"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkRecv measures Conn.Recv of a queued 64-byte datagram, without Lua: batches of 100
// are sent untimed, then received timed.
func BenchmarkRecv(b *testing.B) {
	benchmarkReceive(b, func(c *Conn, buf []byte) (int, error) { return c.Recv(context.Background(), buf, 0) })
}

// BenchmarkRecvfrom is BenchmarkRecv with the sender's address.
func BenchmarkRecvfrom(b *testing.B) {
	benchmarkReceive(b, func(c *Conn, buf []byte) (int, error) {
		n, _, err := c.Recvfrom(context.Background(), buf, 0)
		return n, err
	})
}

func benchmarkReceive(b *testing.B, receive func(*Conn, []byte) (int, error)) {
	c, err := Socket(unix.AF_INET, unix.SOCK_DGRAM, 0, &Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	lo, _ := NewAddr(netip.MustParseAddrPort("127.0.0.1:0"))
	if err := c.Bind(lo); err != nil {
		b.Fatal(err)
	}
	me, _ := c.LocalAddr()
	payload, buf := make([]byte, 64), make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += 100 {
		b.StopTimer()
		for k := 0; k < 100; k++ {
			c.Sendto(context.Background(), payload, 0, me)
		}
		b.StartTimer()
		for k := 0; k < 100 && done+k < b.N; k++ {
			if n, err := receive(c, buf); n != 64 || err != nil {
				b.Fatal(n, err)
			}
		}
	}
}
