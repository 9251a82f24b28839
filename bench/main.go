// Command bench measures udplab against C, Lua 5.4 + LuaSocket, Lua 5.3 + luaposix and Python on
// the same socket operations, run alternated in one go, and prints a table of each contender's
// time per operation as a multiple of C's, with the spread over the rounds.
//
//	go run ./bench              # 7 rounds, about two minutes on 2 cores
//	go run ./bench -rounds 3    # quicker, rougher
//
// The operations (64-byte datagrams on loopback; the peers in bench/peers do the same calls):
// send on a connected socket; sendto with an address kept from call to call; sendto with host
// and port given each time; recv and recvfrom of queued datagrams; a ping-pong round trip of
// four calls; poll over 1000 sockets with one readable; starting the interpreter; resident
// memory idle and after a loop. A contender that is not installed is installed with apt when
// udplab runs as root, else skipped with a note.
//
// udplab is built as the README says to install it, without cgo; "udplab, cgo" is the binary a
// plain go build makes where a C compiler is found, and "Go floor" a hello world built without
// cgo in the same run: what starting any Go program costs here. Those two rows have the start
// and memory columns only.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// op is one column of the table.
type op struct {
	name, title string
	n           int // operations per run
}

var ops = []op{
	{"send", "send", 100000},
	{"sendto_kept", "sendto, kept address", 100000},
	{"sendto_hostport", "sendto, host+port", 100000},
	{"recv", "recv", 100000},
	{"recvfrom", "recvfrom", 100000},
	{"pingpong", "ping-pong RTT", 30000},
	{"poll1000", "poll, 1000 sockets", 2000},
}

// contender is one row: how to run an operation, and how to start it doing nothing.
type contender struct {
	name  string
	run   []string // the command before "OP N"; nil: the start column only
	start []string // the command that starts the interpreter and does nothing
	check []string // a command that succeeds when the contender is installed
	apt   []string // the Debian packages that install it
	rss   []string // for a row without run: the command that prints its resident memory
}

// goFloor is the Go floor's program: it does nothing, or prints its VmRSS twice (idle, and
// after no loop) as the rss operation does.
const goFloor = `package main

import (
	"bytes"
	"os"
)

func main() {
	if len(os.Args) > 1 {
		b, _ := os.ReadFile("/proc/self/status")
		_, line, _ := bytes.Cut(b, []byte("VmRSS:"))
		line, _, _ = bytes.Cut(line, []byte("kB"))
		kb := bytes.TrimSpace(line)
		os.Stdout.Write(append(append(append(kb, ' '), kb...), '\n'))
	}
}
`

func main() {
	rounds := flag.Int("rounds", 7, "rounds; each runs every contender on every operation, in rotated order")
	flag.Parse()
	here, err := benchDir()
	if err != nil {
		fail(err)
	}
	tmp, err := os.MkdirTemp("", "udplab-bench")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	peers := filepath.Join(here, "peers")
	udplab, udplabCgo, floor := filepath.Join(tmp, "udplab"), filepath.Join(tmp, "udplab-cgo"), filepath.Join(tmp, "gofloor")
	if err := goBuild(udplab, filepath.Dir(here), "0"); err != nil {
		fail(fmt.Errorf("building udplab: %v", err))
	}
	if err := goBuild(udplabCgo, filepath.Dir(here), ""); err != nil {
		fail(fmt.Errorf("building udplab with cgo: %v", err))
	}
	floorDir := filepath.Join(tmp, "floor")
	if err := os.MkdirAll(floorDir, 0o755); err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(floorDir, "main.go"), []byte(goFloor), 0o644); err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(floorDir, "go.mod"), []byte("module gofloor\n"), 0o644); err != nil {
		fail(err)
	}
	if err := goBuild(floor, floorDir, "0"); err != nil {
		fail(fmt.Errorf("building the Go floor: %v", err))
	}
	cOps := filepath.Join(tmp, "ops")
	var notes []string
	if out, err := exec.Command("gcc", "-O2", "-o", cOps, filepath.Join(peers, "ops.c")).CombinedOutput(); err != nil {
		fail(fmt.Errorf("the C reference could not be built (apt install gcc): %v\n%s", err, out))
	}
	python := "python3"
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		python = "/usr/bin/python3" // the system's, not a virtualenv's
	}
	all := []contender{
		{name: "C", run: []string{cOps}, start: []string{cOps, "start", "0"}},
		{name: "udplab", run: []string{udplab, filepath.Join(peers, "udplab.lua")}, start: []string{udplab, "-e", ""}},
		{name: "udplab, cgo", start: []string{udplabCgo, "-e", ""}, rss: []string{udplabCgo, filepath.Join(peers, "udplab.lua")}},
		{name: "Go floor", start: []string{floor}, rss: []string{floor}},
		{name: "LuaSocket", run: []string{"lua5.4", filepath.Join(peers, "luasocket.lua")},
			start: []string{"lua5.4", "-e", `require"socket"`}, check: []string{"lua5.4", "-e", `require"socket"`},
			apt: []string{"lua5.4", "lua-socket"}},
		{name: "luaposix", run: []string{"lua5.3", filepath.Join(peers, "luaposix.lua")},
			start: []string{"lua5.3", "-e", `require"posix.sys.socket"`}, check: []string{"lua5.3", "-e", `require"posix.sys.socket"`},
			apt: []string{"lua5.3", "lua-posix"}},
		{name: "Python", run: []string{python, filepath.Join(peers, "ops.py")},
			start: []string{python, "-c", "import socket"}, check: []string{python, "-c", "import socket"},
			apt: []string{"python3"}},
	}
	var contenders []contender
	for _, c := range all {
		if c.check != nil && exec.Command(c.check[0], c.check[1:]...).Run() != nil {
			if os.Geteuid() == 0 && c.apt != nil {
				exec.Command("apt-get", append([]string{"install", "-y", "-q"}, c.apt...)...).Run()
			}
			if exec.Command(c.check[0], c.check[1:]...).Run() != nil {
				notes = append(notes, fmt.Sprintf("%s skipped: not installed (apt install %s)", c.name, strings.Join(c.apt, " ")))
				continue
			}
		}
		contenders = append(contenders, c)
	}

	// results[contender][column] holds one value per round.
	columns := append(append([]string{}, opNames()...), "start", "rss_idle", "rss_loop")
	results := map[string]map[string][]float64{}
	for _, c := range contenders {
		results[c.name] = map[string][]float64{}
	}
	for r := 0; r < *rounds; r++ {
		fmt.Fprintf(os.Stderr, "round %d of %d\n", r+1, *rounds)
		for k := range contenders {
			c := contenders[(k+r)%len(contenders)] // rotated, so that no one always runs first
			for _, o := range ops {
				if c.run == nil {
					continue
				}
				v, err := measure(c, o.name, o.n)
				if err != nil {
					fail(fmt.Errorf("%s %s: %v", c.name, o.name, err))
				}
				results[c.name][o.name] = append(results[c.name][o.name], v)
			}
			results[c.name]["start"] = append(results[c.name]["start"], startTime(c.start, 20))
			idle, loop, err := rss(c)
			if err != nil {
				fail(fmt.Errorf("%s rss: %v", c.name, err))
			}
			results[c.name]["rss_idle"] = append(results[c.name]["rss_idle"], idle)
			results[c.name]["rss_loop"] = append(results[c.name]["rss_loop"], loop)
		}
	}
	printTable(contenders, columns, results, *rounds)
	for _, n := range notes {
		fmt.Println("note: " + n)
	}
}

func opNames() []string {
	var names []string
	for _, o := range ops {
		names = append(names, o.name)
	}
	return names
}

// benchDir is this program's folder: bench/ under the module's root.
func benchDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("run from the udplab module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bench"), nil
}

// measure runs one operation n times in contender c and returns its nanoseconds per operation.
func measure(c contender, name string, n int) (float64, error) {
	cmd := exec.Command(c.run[0], append(c.run[1:], name, strconv.Itoa(n))...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, errb.String())
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}

// startTime is the median time, in nanoseconds, of starting cmd and waiting for it, of runs runs.
func startTime(cmd []string, runs int) float64 {
	var times []float64
	for i := 0; i < runs; i++ {
		c := exec.Command(cmd[0], cmd[1:]...)
		t0 := time.Now()
		c.Run()
		times = append(times, float64(time.Since(t0)))
	}
	return median(times)
}

// goBuild builds the Go package in dir to out, with CGO_ENABLED=cgo ("": as go build decides).
func goBuild(out, dir, cgo string) error {
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = os.Environ()
	if cgo != "" {
		cmd.Env = append(cmd.Env, "CGO_ENABLED="+cgo)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v\n%s", err, b)
	}
	return nil
}

// rss runs contender c's rss operation: its resident memory, in KB, idle and after a loop.
func rss(c contender) (idle, loop float64, err error) {
	run := c.run
	if run == nil {
		run = c.rss
	}
	out, err := exec.Command(run[0], append(run[1:], "rss", "100000")...).Output()
	if err != nil {
		return 0, 0, err
	}
	if _, err := fmt.Sscan(string(out), &idle, &loop); err != nil {
		return 0, 0, fmt.Errorf("%q: %v", out, err)
	}
	return idle, loop, nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// printTable prints, per column, C's median and every other contender's median ratio to C over
// the rounds (each round's value against C's of the same round) with the lowest and highest.
func printTable(contenders []contender, columns []string, results map[string]map[string][]float64, rounds int) {
	titles := map[string]string{"start": "start", "rss_idle": "RSS idle", "rss_loop": "RSS loop"}
	for _, o := range ops {
		titles[o.name] = o.title
	}
	host, _ := os.Hostname()
	fmt.Printf("udplab bench, %s, %s on %s (%d CPUs, %s/%s), %d rounds; time per operation as a multiple of C's (lower is better), median (lowest–highest round):\n\n",
		time.Now().Format("2006-01-02"), runtime.Version(), host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, rounds)
	header := "| |"
	rule := "|---|"
	for _, col := range columns {
		header += " " + titles[col] + " |"
		rule += "---|"
	}
	fmt.Println(header)
	fmt.Println(rule)
	ref := results["C"]
	for _, c := range contenders {
		line := "| " + c.name + " |"
		for _, col := range columns {
			v := results[c.name][col]
			if len(v) == 0 {
				line += " – |"
				continue
			}
			if c.name == "C" {
				line += " 1 (" + absolute(col, median(v)) + ") |"
				continue
			}
			ratios := make([]float64, len(v))
			for i := range v {
				ratios[i] = v[i] / ref[col][i]
			}
			lo, hi := ratios[0], ratios[0]
			for _, r := range ratios {
				lo, hi = min(lo, r), max(hi, r)
			}
			line += fmt.Sprintf(" %.2f (%.2f–%.2f) |", median(ratios), lo, hi)
		}
		fmt.Println(line)
	}
	fmt.Println()
	fmt.Print("C's medians in brackets. RSS is VmRSS after opening two sockets, then after 100000 send+recv (the Go floor: idle, twice).\n\n")
}

// absolute formats a median of column col: a time, or a size in KB.
func absolute(col string, v float64) string {
	switch {
	case strings.HasPrefix(col, "rss"):
		return fmt.Sprintf("%.1f MB", v/1024)
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2f µs", v/1e3)
	}
	return fmt.Sprintf("%.0f ns", v)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
