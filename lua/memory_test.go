package lua

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The default budget is at most a quarter of the machine's memory as /proc/meminfo gives it,
// and the cgroup files it reads include this process's own cgroup's, as /proc/self/cgroup
// names it.
func TestDefaultMemoryLimit(t *testing.T) {
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Skip(err)
	}
	_, rest, _ := strings.Cut(string(meminfo), "MemTotal:")
	kb, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if got := DefaultMemoryLimit(); got <= 0 || got > kb<<10/4+1<<20 {
		t.Errorf("DefaultMemoryLimit() = %d, want at most a quarter of MemTotal (%d kB)", got, kb)
	}
	cgroups, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip(err)
	}
	var want []string
	for _, line := range strings.Split(string(cgroups), "\n") {
		if path, ok := strings.CutPrefix(line, "0::"); ok {
			want = append(want, filepath.Join("/sys/fs/cgroup", path, "memory.max"))
		}
		if _, path, ok := strings.Cut(line, ":memory:"); ok {
			want = append(want, filepath.Join("/sys/fs/cgroup/memory", path, "memory.limit_in_bytes"))
		}
	}
	files := cgroupLimitFiles()
	for _, w := range want {
		if !slices.Contains(files, w) {
			t.Errorf("cgroupLimitFiles() = %q, want it to include %s", files, w)
		}
	}
}
