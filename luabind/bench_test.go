package luabind

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkLuaSend measures the Lua → syscall path: a Lua loop of send(s, 64-byte string) on a
// connected socket whose peer is bound (and never reads: the kernel drops what overflows its
// buffer, and send still succeeds). Compare its ns/op with the same loop in C.
func BenchmarkLuaSend(b *testing.B) {
	var out bytes.Buffer
	L, _ := newState(b, &out)
	if err := L.DoString(`
		sink = socket(AF_INET, SOCK_DGRAM); bind(sink, "127.0.0.1", 0)
		s = socket(AF_INET, SOCK_DGRAM); connect(s, getsockname(sink))
		payload = string.rep("x", 64)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := L.DoString(fmt.Sprintf(`
		local send, s, payload = send, s, payload
		for i = 1, %d do
			if send(s, payload) ~= 64 then error("short send") end
		end`, b.N)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLuaSendtoAddr is BenchmarkLuaSend with sendto and an address table, on an unconnected
// socket: the address is encoded once, not per call.
func BenchmarkLuaSendtoAddr(b *testing.B) {
	var out bytes.Buffer
	L, _ := newState(b, &out)
	if err := L.DoString(`
		sink = socket(AF_INET, SOCK_DGRAM); bind(sink, "127.0.0.1", 0)
		s = socket(AF_INET, SOCK_DGRAM); to = getsockname(sink)
		payload = string.rep("x", 64)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := L.DoString(fmt.Sprintf(`
		local sendto, s, payload, to = sendto, s, payload, to
		for i = 1, %d do
			if sendto(s, payload, to) ~= 64 then error("short send") end
		end`, b.N)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLuaPingPong measures a round trip: send + recv against an echo socket served by the
// same Lua loop (recv, send back), so every iteration is four socket calls.
func BenchmarkLuaPingPong(b *testing.B) {
	var out bytes.Buffer
	L, _ := newState(b, &out)
	if err := L.DoString(`
		echo = socket(AF_INET, SOCK_DGRAM); bind(echo, "127.0.0.1", 0); settimeout(echo, 2)
		c = socket(AF_INET, SOCK_DGRAM); connect(c, getsockname(echo)); settimeout(c, 2)
		connect(echo, getsockname(c))
		payload = string.rep("x", 64)`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := L.DoString(fmt.Sprintf(`
		local send, recv, c, echo, payload = send, recv, c, echo, payload
		for i = 1, %d do
			send(c, payload)
			send(echo, recv(echo, 100))
			if recv(c, 100) ~= payload then error("bad echo") end
		end`, b.N)); err != nil {
		b.Fatal(err)
	}
}
