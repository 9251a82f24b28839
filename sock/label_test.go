//go:build linux

package sock

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// A named socket (label) is named in its trace lines, as strace -y names a descriptor, and at its
// address in the wire view (bound to the wildcard, at the address a datagram came to); a socket
// with no name is not. Taking the name away takes it from the lines.
func TestNamedSockets(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	tr := NewTracer()
	tr.Start(&out)
	capture, err := OpenCapture("lo")
	switch {
	case errors.Is(err, unix.EPERM):
		t.Logf("no wire view (needs CAP_NET_RAW): the trace lines alone are checked")
	case err != nil:
		t.Fatal(err)
	default:
		tr.AddCapture(capture)
	}
	defer tr.Stop()
	server := tracedSocket(t, tr, unix.AF_INET)
	server.Label("server")
	if server.Name() != "server" {
		t.Fatalf("Name() = %q", server.Name())
	}
	server.Bind(mustAddr(t, "0.0.0.0", 0)) // the wildcard: named at 127.0.0.1 too
	at, _ := server.LocalAddr()
	client := tracedSocket(t, tr, unix.AF_INET)
	client.Connect(mustAddr(t, "127.0.0.1", at.Port()))
	me, _ := client.LocalAddr()
	ctx := context.Background()
	client.Send(ctx, []byte("g1"), 0)
	server.Recvfrom(ctx, make([]byte, 10), 0)
	tr.Flush()
	got := normalize(out.String(), map[int]string{server.FD(): "S", client.FD(): "C"}, map[int]string{at.Port(): "SRV", me.Port(): "ME"})
	want := `socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = S
bind(S<server>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("0.0.0.0")}, 16) = 0
socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = C
connect(C, {sa_family=AF_INET, sin_port=htons(SRV), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
sendto(C, "g1", 2, 0, NULL, 0) = 2
`
	if capture != nil {
		want += `127.0.0.1:ME > 127.0.0.1:SRV (server) UDP len 2 "g1"
`
	}
	want += `recvfrom(S<server>, "g1", 10, 0, {sa_family=AF_INET, sin_port=htons(ME), sin_addr=inet_addr("127.0.0.1")}, [112 => 16]) = 2
`
	if got != want {
		t.Errorf("trace:\n%s\nwant:\n%s", got, want)
	}
	server.Label("")
	if server.Name() != "" || server.fdText() != strconv.Itoa(server.FD()) {
		t.Errorf("a name taken away is still there: %q %q", server.Name(), server.fdText())
	}
}
