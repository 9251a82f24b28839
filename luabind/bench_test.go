package luabind

import (
	"bytes"
	"fmt"
	"testing"

	lua "github.com/yuin/gopher-lua"
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

// BenchmarkLuaSendRecorded is BenchmarkLuaSend with the calls recorded for the diagram, as the
// console records them, and the trace not printing: each call is kept as an event, and its
// strace line is not formatted.
func BenchmarkLuaSendRecorded(b *testing.B) {
	var out bytes.Buffer
	L, rt := newState(b, &out)
	rt.StartDiagram()
	if err := L.DoString(`
		sink = socket(AF_INET, SOCK_DGRAM); bind(sink, "127.0.0.1", 0)
		s = socket(AF_INET, SOCK_DGRAM); connect(s, getsockname(sink))
		payload = string.rep("x", 64)`); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
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

// luaLoop runs setup, then body b.N times in one Lua loop (its locals given by locals), timed.
func luaLoop(b *testing.B, setup, locals, body string) {
	b.Helper()
	var out bytes.Buffer
	L, _ := newState(b, &out)
	if err := L.DoString(setup); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := L.DoString(fmt.Sprintf("local %s = %s\nfor i = 1, %d do\n%s\nend", locals, locals, b.N, body)); err != nil {
		b.Fatal(err)
	}
}

// recvSetup is a socket that sends 64-byte datagrams to itself: a batch of 100 is queued, then
// received, so that the receive buffer never overflows.
const recvSetup = `
	s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); settimeout(s, 2)
	me = getsockname(s); payload = string.rep("x", 64)`

// BenchmarkLuaRecv measures recv of a queued 64-byte datagram (each op includes a 1/100 share
// of the untimed-in-C refill: read it against BenchmarkLuaSendtoAddr).
func BenchmarkLuaRecv(b *testing.B) {
	luaLoop(b, recvSetup, "recv, sendto, s, me, payload",
		`if i % 100 == 1 then for k = 1, 100 do sendto(s, payload, me) end end
		 if recv(s, 100) ~= payload then error("bad datagram") end`)
}

// BenchmarkLuaRecvVarying is BenchmarkLuaRecv with two payloads in turn, so that no datagram has
// the bytes of the one before: each receive allocates its string.
func BenchmarkLuaRecvVarying(b *testing.B) {
	luaLoop(b, recvSetup+`; other = string.rep("y", 64)`, "recv, sendto, s, me, payload, other",
		`if i % 100 == 1 then for k = 1, 50 do sendto(s, payload, me); sendto(s, other, me) end end
		 local d = recv(s, 100)
		 if d ~= payload and d ~= other then error("bad datagram") end`)
}

// BenchmarkLuaRecvfrom is BenchmarkLuaRecv with the sender's address.
func BenchmarkLuaRecvfrom(b *testing.B) {
	luaLoop(b, recvSetup, "recvfrom, sendto, s, me, payload",
		`if i % 100 == 1 then for k = 1, 100 do sendto(s, payload, me) end end
		 local d, from = recvfrom(s, 100)
		 if d ~= payload or from.port ~= me.port then error("bad datagram") end`)
}

// BenchmarkLuaPoll1000 measures poll over 1000 sockets, one of them readable.
func BenchmarkLuaPoll1000(b *testing.B) {
	luaLoop(b, `
		list = {}
		for i = 1, 1000 do list[i] = socket(AF_INET, SOCK_DGRAM); bind(list[i], "127.0.0.1", 0) end
		sendto(list[1000], "x", getsockname(list[500]))`, "poll, list",
		`if #poll(list, 1) ~= 1 then error("not one ready") end`)
}

// BenchmarkLuaCallOverhead measures a binding that makes no system call (fileno): what the Lua
// call, the guard and the argument check cost by themselves.
func BenchmarkLuaCallOverhead(b *testing.B) {
	luaLoop(b, `s = socket(AF_INET, SOCK_DGRAM)`, "fileno, s", `fileno(s)`)
}

// BenchmarkLuaRecvOnly times only the receives: each batch of 100 datagrams is queued with the
// timer stopped (the Lua loop calls back to stop and start it).
func BenchmarkLuaRecvOnly(b *testing.B) {
	var out bytes.Buffer
	L, _ := newState(b, &out)
	if err := L.DoString(recvSetup); err != nil {
		b.Fatal(err)
	}
	L.SetGlobal("stoptimer", L.NewFunction(func(*lua.LState) int { b.StopTimer(); return 0 }))
	L.SetGlobal("starttimer", L.NewFunction(func(*lua.LState) int { b.StartTimer(); return 0 }))
	b.ReportAllocs()
	b.ResetTimer()
	err := L.DoString(fmt.Sprintf(`
		local recv, sendto, s, me, payload, stoptimer, starttimer = recv, sendto, s, me, payload, stoptimer, starttimer
		local n = %d
		for done = 0, n - 1, 100 do
			stoptimer()
			for k = 1, 100 do sendto(s, payload, me) end
			starttimer()
			for k = 1, math.min(100, n - done) do
				if recv(s, 100) ~= payload then error("bad datagram") end
			end
		end`, b.N))
	if err != nil {
		b.Fatal(err)
	}
}
