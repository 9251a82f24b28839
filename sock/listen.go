//go:build linux

package sock

import (
	"net"
	"strconv"
)

// ListenLoopback wraps socket(2), bind(2) and listen(2) for a TCP server on 127.0.0.1:port (0: a
// port the kernel picks): udplab's own service for a browser on this machine (the live picture),
// not a socket of a script's. Loopback only: nothing on the network reaches it.
func ListenLoopback(port int) (net.Listener, error) {
	return net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}
