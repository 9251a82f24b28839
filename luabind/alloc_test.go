package luabind

import (
	"bytes"
	"testing"
)

// allocsPerCall counts the allocations of one call of the Lua function fname, made after setup.
func allocsPerCall(t *testing.T, setup, fname string) float64 {
	t.Helper()
	var out bytes.Buffer
	L, _ := newState(t, &out)
	if err := L.DoString(setup); err != nil {
		t.Fatal(err)
	}
	fn := L.GetGlobal(fname)
	return testing.AllocsPerRun(200, func() {
		L.Push(fn)
		L.Call(0, 0)
	})
}

// The Lua → system call path allocates nothing for a send: the design keeps it so (the Lua
// string is sent as it is, the address table keeps its sockaddr).
func TestSendAllocatesNothing(t *testing.T) {
	setup := `
		sink = socket(AF_INET, SOCK_DGRAM); bind(sink, "127.0.0.1", 0)
		s = socket(AF_INET, SOCK_DGRAM); connect(s, getsockname(sink))
		u = socket(AF_INET, SOCK_DGRAM); to = getsockname(sink)
		payload = string.rep("x", 64)
		function step() send(s, payload) end
		function stepto() sendto(u, payload, to) end`
	if n := allocsPerCall(t, setup, "step"); n != 0 {
		t.Errorf("send: %.1f allocations per call, want 0", n)
	}
	if n := allocsPerCall(t, setup, "stepto"); n != 0 {
		t.Errorf("sendto with an address table: %.1f allocations per call, want 0", n)
	}
}

// recv and recvfrom (from the peer that sent last) allocate only the data, in one block with its
// header (stringValue): the sender's address table is the one returned before. The same bytes
// as the socket's last datagram allocate nothing: its string is returned again.
func TestRecvAllocations(t *testing.T) {
	setup := `
		s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); settimeout(s, 2)
		peer = socket(AF_INET, SOCK_DGRAM); bind(peer, "127.0.0.1", 0)
		me = getsockname(s); payloads = {string.rep("x", 64), string.rep("y", 64)}; i = 0
		function step() i = i + 1; sendto(peer, payloads[i % 2 + 1], me); local d, from = recvfrom(s, 100) end
		function steprecv() i = i + 1; sendto(peer, payloads[i % 2 + 1], me); local d = recv(s, 100) end
		function same() sendto(peer, payloads[1], me); local d = recv(s, 100) end`
	for _, c := range []struct {
		fn   string
		want float64
	}{{"step", 1}, {"steprecv", 1}, {"same", 0}} {
		if n := allocsPerCall(t, setup, c.fn); n > c.want {
			t.Errorf("%s: %.1f allocations per call, want at most %v", c.fn, n, c.want)
		}
	}
}

// A datagram of the same length as the last one but other bytes is a new string, and the same
// bytes again give the same string.
func TestReceiveSameLengthOtherBytes(t *testing.T) {
	var out bytes.Buffer
	L, _ := newState(t, &out)
	err := L.DoString(`
		local s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); settimeout(s, 2)
		local me = getsockname(s)
		for _, d in ipairs({"ab", "ab", "ac", "ab", "", "", "ab", "ba"}) do
			sendto(s, d, me)
			local got = recv(s, 10)
			assert(got == d, string.format("sent %q, received %q", d, got))
			sendto(s, d, me)
			got = recvfrom(s, 10)
			assert(got == d, string.format("sent %q, recvfrom gave %q", d, got))
		end`)
	if err != nil {
		t.Fatal(err)
	}
}

// The address table recvfrom returns is the same while the same peer sends and its fields are
// untouched; a new one when the peer changes or the script changed the table.
func TestRecvfromKeepsTheSenderTable(t *testing.T) {
	var out bytes.Buffer
	L, _ := newState(t, &out)
	err := L.DoString(`
		s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); settimeout(s, 2)
		a = socket(AF_INET, SOCK_DGRAM); bind(a, "127.0.0.1", 0)
		b = socket(AF_INET, SOCK_DGRAM); bind(b, "127.0.0.1", 0)
		local function from(peer) sendto(peer, "x", getsockname(s)); return select(2, recvfrom(s, 10)) end
		local f1, f2 = from(a), from(a)
		assert(rawequal(f1, f2), "the same peer, another table")
		local f3 = from(b)
		assert(not rawequal(f3, f2) and f3.port == getsockname(b).port, "another peer, the same table")
		local f4 = from(b)
		f4.port = 9
		local f5 = from(b)
		assert(not rawequal(f5, f4) and f5.port == getsockname(b).port and f4.port == 9, "a changed table came back")`)
	if err != nil {
		t.Fatal(err)
	}
}

// A received string is one block, its header and its bytes (stringValue): it stays whole through
// collections that reuse the memory around it, and so does a substring of it, kept alone.
func TestReceivedStringsSurviveCollections(t *testing.T) {
	var out bytes.Buffer
	L, _ := newState(t, &out)
	err := L.DoString(`
		local s = socket(AF_INET, SOCK_DGRAM); bind(s, "127.0.0.1", 0); settimeout(s, 2)
		local me = getsockname(s)
		local function datagram(i) return "datagram " .. i .. " " .. string.rep(string.char(65 + i % 26), i) end
		local kept, tails = {}, {}
		for i = 1, 300 do
			sendto(s, datagram(i), me)
			local d = recvfrom(s, 1000)
			if i % 2 == 0 then kept[i] = d else tails[i] = d:sub(10) end
			if i % 30 == 0 then
				collectgarbage()
				local junk = {}
				for k = 1, 2000 do junk[k] = string.rep("j", k % 200) .. k end
			end
		end
		collectgarbage(); collectgarbage()
		for i = 1, 300 do
			if i % 2 == 0 then assert(kept[i] == datagram(i), "datagram " .. i)
			else assert(tails[i] == datagram(i):sub(10), "the tail of datagram " .. i) end
		end`)
	if err != nil {
		t.Fatal(err)
	}
}
