package lua

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	glua "github.com/yuin/gopher-lua"
)

// A coroutine resumed with fewer values than its coroutine.yield expects sees nil for the rest
// (gopher-lua left Go's nil there, which took the process down when read); yield's results
// and the coroutine's status are Lua 5.4's (each line checked against lua5.4).
func TestCoroutinesAsLua54(t *testing.T) {
	t.Parallel()
	cases := []struct{ code, want string }{
		{`local co = coroutine.wrap(function(...) print(select("#", ...), ...) local a, b = coroutine.yield() print(a, b) local c, d, e = coroutine.yield(1, 2, 3) print(c, d, e) print(coroutine.yield()) end) co(1, nil, 3) co("x") co() co(7, 8)`,
			"3\t1\tnil\t3\nx\tnil\nnil\tnil\tnil\n7\t8\n"},
		{`local co co = coroutine.create(function() print(coroutine.status(co), coroutine.isyieldable()) coroutine.yield() end) print(coroutine.status(co)) coroutine.resume(co) print(coroutine.status(co), coroutine.resume(co)) print(coroutine.status(co), coroutine.resume(co))`,
			"suspended\nrunning\ttrue\nsuspended\ttrue\ndead\tfalse\tcannot resume dead coroutine\n"},
		{`local outer outer = coroutine.create(function() local inner = coroutine.create(function() print(coroutine.status(outer)) end) pcall(coroutine.resume, inner) end) coroutine.resume(outer)`, "normal\n"},
		{`local co = coroutine.create(function() pcall(function() print(coroutine.status(coroutine.running()), select(2, coroutine.running())) end) end) coroutine.resume(co)`, "running\tfalse\n"},
		{`print(select(2, coroutine.running()), coroutine.isyieldable())`, "true\tfalse\n"},
		{`local co = coroutine.create(function() error("x") end) coroutine.resume(co) print(coroutine.close(co))`, "false\t<string>:1: x\n"},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		L, _ := newState(t, &out)
		if err := runChunk(L, tc.code); err != nil {
			t.Fatalf("%s: %v", tc.code, err)
		}
		if out.String() != tc.want {
			t.Errorf("%s\ngot  %q\nwant %q", tc.code, out.String(), tc.want)
		}
	}
}

// coroutineLoop makes 1e5 coroutines with coroutine.wrap, each yielding once, and prints the
// seconds it took by os.clock: in lua5.4 the CPU time, which the machine's other work does not
// inflate. Here os.clock is the time since the start, so the benchmark measures this side's CPU
// time itself (getrusage), for a ratio that holds on a loaded machine.
const coroutineLoop = `local t0 = os.clock()
for i = 1, 1e5 do local f = coroutine.wrap(function() coroutine.yield(i) end) f() end
print(os.clock() - t0)`

// BenchmarkCoroutines runs coroutineLoop here and in lua5.4, one after the other in each
// iteration, and reports both times and their ratio (the goal: at most 5).
func BenchmarkCoroutines(b *testing.B) {
	lua54, err := exec.LookPath("lua5.4")
	if err != nil {
		b.Skip("lua5.4 is not installed")
	}
	var ours, theirs float64
	for i := 0; i < b.N; i++ {
		var out bytes.Buffer
		L := glua.NewState()
		rt := Open(L, Options{Stdout: &out})
		before := cpuSeconds()
		if err := L.DoString(coroutineLoop); err != nil {
			b.Fatal(err)
		}
		ours += cpuSeconds() - before
		rt.Close()
		L.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		o, err := exec.CommandContext(ctx, lua54, "-e", coroutineLoop).Output()
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		s, err := strconv.ParseFloat(strings.TrimSpace(string(o)), 64)
		if err != nil {
			b.Fatal(err)
		}
		theirs += s
	}
	b.ReportMetric(ours/float64(b.N), "s-here")
	b.ReportMetric(theirs/float64(b.N), "s-lua5.4")
	b.ReportMetric(ours/theirs, "x-lua5.4")
}

func BenchmarkCoroutineWrap(b *testing.B) {
	L := glua.NewState()
	defer L.Close()
	defer Open(L, Options{}).Close()
	run, err := L.LoadString(`local n = ... for i = 1, n do local f = coroutine.wrap(function() coroutine.yield(i) end) f() end`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	L.Push(run)
	L.Push(glua.LNumber(b.N))
	if err := L.PCall(1, 0, nil); err != nil {
		b.Fatal(err)
	}
}

// A coroutine's thread starts small: gopher-lua gave each a full-size stack (about 100 kB, 80
// times lua5.4's time to make one). What is left is mostly gopher-lua's own: the Global it makes
// for every thread and drops (7 kB).
func TestCoroutineIsSmall(t *testing.T) {
	var out bytes.Buffer
	L, _ := newState(t, &out)
	fn, err := L.LoadString(`local n = ... for i = 1, n do local f = coroutine.wrap(function() coroutine.yield(i) end) f() end`)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	L.Push(fn)
	L.Push(glua.LNumber(n))
	if err := L.PCall(1, 0, nil); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if perCoroutine := (after.TotalAlloc - before.TotalAlloc) / n; perCoroutine > 16<<10 {
		t.Errorf("a coroutine allocates %d bytes, want at most 16 kB", perCoroutine)
	}
}

// cpuSeconds is the CPU time this process has used, user and system, in seconds (the garbage
// collector's too, which is part of what a coroutine costs here).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
