package lua

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	glua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// Go cannot survive a failed allocation: the process dies with "fatal error: runtime: out of
// memory". So the Lua state gets a memory budget, and memory is refused before the process runs
// out, as Lua refuses it: with the error "not enough memory".
//
//   - Calls that can ask for a large block at once (string.rep, table.concat, string.format,
//     io.read) check the size first and raise "not enough memory", which pcall catches.
//   - Gradual growth (a table that grows without end, concatenation in a loop) is watched: when
//     the heap passes the budget, the running console chunk is cancelled with "not enough
//     memory"; a script gets the error at its next check (print, a binding's call), and is ended with the message if
//     it goes on growing without making one.
//
// The budget is a quarter of what the process may really get, so that what is in flight when
// the watch fires (a concatenation can double the largest string) still fits.

// ErrNoMemory is the error of an allocation refused for the memory budget.
var ErrNoMemory = errors.New("not enough memory")

// DefaultMemoryLimit is a budget to give a Lua state: a quarter of the least of the
// machine's memory, the cgroup's limit, and the address space RLIMIT_AS leaves.
func DefaultMemoryLimit() int64 {
	avail := int64(1) << 62
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil && si.Totalram > 0 {
		avail = min(avail, int64(si.Totalram)*int64(si.Unit))
	}
	for _, path := range cgroupLimitFiles() {
		if b, err := os.ReadFile(path); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
				avail = min(avail, n)
			}
		}
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_AS, &rl) == nil && rl.Cur != unix.RLIM_INFINITY {
		avail = min(avail, int64(rl.Cur)-vmSize())
	}
	return max(avail/4, 1<<20)
}

// cgroupLimitFiles are where the memory limit of this process's cgroup may be read (v2, v1).
func cgroupLimitFiles() []string {
	files := []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return files
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		switch {
		case len(parts) != 3:
		case parts[0] == "0" && parts[1] == "":
			files = append(files, filepath.Join("/sys/fs/cgroup", parts[2], "memory.max"))
		case strings.Contains(","+parts[1]+",", ",memory,"):
			files = append(files, filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes"))
		}
	}
	return files
}

// vmSize is the process's virtual memory size now, which RLIMIT_AS bounds.
func vmSize() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// heapSample reads the bytes of heap objects, live or not yet swept.
var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
var heapMu sync.Mutex

func heapBytes() int64 {
	heapMu.Lock()
	defer heapMu.Unlock()
	metrics.Read(heapSample)
	return int64(heapSample[0].Value.Uint64())
}

// overBudget reports whether n more bytes would take the heap past limit, collecting garbage
// before it says yes.
func overBudget(limit, n int64) bool {
	if n < 0 || n > limit {
		return true
	}
	if heapBytes()+n <= limit {
		return false
	}
	runtime.GC()
	return heapBytes()+n > limit
}

// Reserve raises "not enough memory" unless n more bytes fit the budget, or when the memory
// watch found the heap past it. Functions that may allocate much call it before they do.
func (rt *Runtime) Reserve(L *glua.LState, n int64) {
	if rt.opts.MemoryLimit == 0 {
		return
	}
	if rt.lowMemory.Load() && rt.lowMemory.Swap(false) && overBudget(rt.opts.MemoryLimit, 0) ||
		n > 1<<16 && overBudget(rt.opts.MemoryLimit, n) {
		L.RaiseError("%s", ErrNoMemory.Error())
	}
}

// watchMemory checks the heap against the budget every interval until ctx is done. When the
// heap passes the budget (after a collection) while growing, it tells the host
// (OnMemoryExceeded: the console cancels its chunk) or marks the state, so that the next check
// raises "not enough memory". When the mark stays (the code makes no call that checks) and the
// heap goes on growing by an eighth of the budget, it ends the process with the message rather
// than let it grow until the kernel or the runtime kills it. A heap that stays past the budget
// without growing is left alone: what runs then did not take the memory, and may free it.
func (rt *Runtime) watchMemory(ctx context.Context, interval time.Duration) {
	limit := rt.opts.MemoryLimit
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var collectedAt, markedAt int64 // the heap after the last forced collection, and when marked
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		h := heapBytes()
		if h <= limit {
			collectedAt, markedAt = 0, 0
			continue
		}
		if h > collectedAt+collectedAt/10 { // collect again only once the heap grew
			runtime.GC()
			h = heapBytes()
			collectedAt = h
			if h <= limit {
				continue
			}
		}
		if markedAt != 0 && h <= markedAt+limit/16 {
			continue // past the budget, but not growing: what runs now is not what took it
		}
		if rt.opts.OnMemoryExceeded != nil && rt.opts.OnMemoryExceeded() {
			markedAt = h
			continue
		}
		if !rt.lowMemory.Load() {
			markedAt = h
			rt.lowMemory.Store(true)
			continue
		}
		if h > markedAt+limit/8 {
			io.WriteString(rt.stderr(), rt.opts.Progname+": "+ErrNoMemory.Error()+"\n")
			if rt.opts.Exit != nil {
				rt.opts.Exit(1) // not rt.exit: Lua's files can only be flushed on its goroutine
			} else {
				os.Exit(1)
			}
			return
		}
	}
}

// MemoryLow reports whether the memory watch found the heap past the budget, so that the next
// Reserve raises "not enough memory": a cheap test for the hot path of a binding.
func (rt *Runtime) MemoryLow() bool { return rt.lowMemory.Load() }
