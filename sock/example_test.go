//go:build linux

package sock_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// The lesson's first experiment: a connected UDP client sends to a port nobody listens on; the
// send succeeds, and the next receive reports the ICMP port unreachable the kernel got back.
func Example_connectionRefused() {
	// Find a port nothing is bound to.
	probe, _ := sock.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0, nil)
	any, _ := sock.ParseAddr("127.0.0.1", 0)
	probe.Bind(any)
	closed, _ := probe.Getsockname()
	probe.Close()

	c, _ := sock.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0, nil)
	defer c.Close()
	c.SetReadTimeout(2 * time.Second)
	fmt.Println("connect:", c.Connect(closed))
	n, err := c.Send(context.Background(), []byte("g1"), 0)
	fmt.Println("send:", n, err)
	_, err = c.Recv(context.Background(), make([]byte, 4096), 0)
	e := sock.ErrnoOf(err)
	fmt.Printf("recv failed: %s (%d) %s %v\n", sock.Strerror(e), int(e), sock.ErrnoName(e), errors.Is(err, unix.ECONNREFUSED))
	// Output:
	// connect: <nil>
	// send: 2 <nil>
	// recv failed: Connection refused (111) ECONNREFUSED true
}
