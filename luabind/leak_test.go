package luabind

import (
	"context"
	"os"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// runOnce runs code in a fresh Lua state as udplab runs a script, and shuts it down as udplab
// does at the end, however the script ended.
func runOnce(code string, timeout time.Duration) error {
	L := lua.NewState()
	defer L.Close()
	exit := func(int) { L.RaiseError("exit") }
	rt := Open(L, Options{Stdout: discard{}, Stderr: discard{}, Exit: exit})
	defer rt.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	L.SetContext(ctx)
	return L.DoString(code)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// However a script ends (normally, by an error, by os.exit, by fatal, interrupted while a call
// blocks or while Lua spins), every socket it opened is closed.
func TestNoFDLeak(t *testing.T) {
	endings := []string{
		`-- ends normally`,
		`error("boom")`,
		`os.exit(3)`,
		`fatal(1, ECONNREFUSED, "recvfrom failed")`,
		`recv(a, 10) -- blocks until interrupted`,
		`while true do end -- spins until interrupted`,
		`close(a); close(a); send(b, "x")`,
		`local t = {} for i = 1, 20 do t[i] = socket(AF_INET6, SOCK_DGRAM) end error("many")`,
	}
	run := func() {
		for _, ending := range endings {
			runOnce(`a = socket(AF_INET, SOCK_DGRAM); bind(a, "127.0.0.1", 0)
				b = socket(AF_INET6, SOCK_DGRAM); connect(b, "::1", 9); send(b, "x")
				`+ending, 30*time.Millisecond)
		}
	}
	run() // let the runtime open what it keeps (poller, timers) before counting
	before := openFDs(t)
	for i := 0; i < 25; i++ {
		run()
	}
	if after := openFDs(t); after != before {
		t.Fatalf("%d file descriptors open after %d scripts, %d before", after, 25*len(endings), before)
	}
}

// The stress run: 1000 sockets, 100k datagrams between them through poll, then closed; no error,
// no leak.
func TestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress run skipped in -short mode")
	}
	before := openFDs(t)
	start := time.Now()
	err := runOnce(`
		local N, ROUNDS = 1000, 100
		local socks, index = {}, {}
		for i = 1, N do
			local s = assert(socket(AF_INET, SOCK_DGRAM))
			assert(bind(s, "127.0.0.1", 0))
			socks[i], index[s] = s, i
		end
		local addrs = {}
		for i = 1, N do addrs[i] = getsockname(socks[i]) end
		local sent, received = 0, 0
		for round = 1, ROUNDS do
			for i = 1, N do
				assert(sendto(socks[i], "r" .. round .. " from " .. i, addrs[i % N + 1]) > 0)
				sent = sent + 1
			end
			local pending = N
			while pending > 0 do
				local ready = assert(poll(socks, 5))
				assert(#ready > 0, "poll timed out with datagrams pending")
				for _, s in ipairs(ready) do
					while recv(s, 100, MSG_DONTWAIT) do
						received = received + 1
						pending = pending - 1
					end
				end
			end
		end
		assert(sent == N * ROUNDS and received == sent, "sent " .. sent .. ", received " .. received)
		for i = 1, N do assert(close(socks[i]) == 0) end
		assert(#sockets() == 0)`, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("1000 sockets, 100000 datagrams through poll in %v", time.Since(start))
	if after := openFDs(t); after > before {
		t.Fatalf("%d file descriptors open after the stress run, %d before", after, before)
	}
}
