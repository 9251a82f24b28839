package luabind

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// Jobs: programs running in the background, so that no second terminal is needed. A lab host's
// spawn starts one in the host; at the console, bg starts a udplab script. Their lines are
// printed as they come, prefixed with the job's name (and host); jobs() lists them with their
// sockets; stop(job) ends one as Ctrl-C would; job:write feeds its input, job:wait waits for its
// end and returns what exec returns.

// Job is a program running in the background.
type Job struct {
	id     int
	name   string // "udpconnectserver"
	host   string // the lab host it runs in; "" for this machine
	pid    int    // in udplab's PID namespace, for /proc
	signal func(syscall.Signal) error

	stdinMu sync.Mutex
	stdin   *os.File // its standard input; nil once closed, or when it has none

	out, errOut *capture           // what it wrote, kept for wait
	done        chan struct{}      // closed when it has ended and its lines are all printed
	status      syscall.WaitStatus // how it ended, once done
}

// JobSpec is a program started in the background, for StartJob.
type JobSpec struct {
	Name   string                     // what its lines are prefixed with
	Host   string                     // the lab host it runs in, "" for this machine
	Pid    int                        // its pid here, for /proc; 0 when unknown
	Signal func(syscall.Signal) error // sends a signal to it (and its children)
	Stdin  *os.File                   // the end of its standard input the job writes; may be nil
	Stdout *os.File                   // the ends of its standard output and error the job reads
	Stderr *os.File                   // (the same file for both is read once); may be nil
	// Wait waits until it ends and returns how.
	Wait func() syscall.WaitStatus
}

// StartJob makes spec a job of L's: its lines are printed, prefixed, as they come, until it ends
// (and then a line saying how); it is listed by jobs() and ended with the others at exit.
func (rt *Runtime) StartJob(spec JobSpec) *Job {
	rt.mu.Lock()
	rt.jobSeq++
	j := &Job{id: rt.jobSeq, name: spec.Name, host: spec.Host, pid: spec.Pid, signal: spec.Signal,
		stdin: spec.Stdin, done: make(chan struct{})}
	rt.jobs = append(rt.jobs, j)
	rt.mu.Unlock()
	prefix := "[" + j.name + "] "
	if j.host != "" {
		prefix = "[" + j.host + " " + j.name + "] "
	}
	line := func(w func() io.Writer) func(string) {
		return func(s string) { fmt.Fprintf(w(), "%s%s\n", prefix, s) }
	}
	if spec.Stdout != nil {
		j.out = newCapture(spec.Stdout, line(rt.asyncOut))
	}
	if spec.Stderr != nil && spec.Stderr != spec.Stdout {
		j.errOut = newCapture(spec.Stderr, line(rt.asyncErr))
	}
	go func() {
		j.status = spec.Wait()
		for _, c := range []*capture{j.out, j.errOut} {
			if c != nil {
				c.finish(100 * time.Millisecond)
			}
		}
		j.closeStdin()
		fmt.Fprintf(rt.asyncOut(), "%sended, %s\n", prefix, describeStatus(j.status)) // before done: stop() returns after it
		close(j.done)
	}()
	return j
}

// describeStatus says how a program ended: "status 0", "killed by signal 2".
func describeStatus(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return fmt.Sprintf("killed by signal %d", int(ws.Signal()))
	}
	return fmt.Sprintf("status %d", ws.ExitStatus())
}

// exitCode is a status as a shell gives it: the exit status, or 128 + the signal's number.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// SetAsync makes w where the jobs' lines go (the console's line editor, which redraws the
// prompt after them); nil: Options.Stdout and Stderr.
func (rt *Runtime) SetAsync(w io.Writer) {
	rt.mu.Lock()
	rt.async = w
	rt.mu.Unlock()
}

func (rt *Runtime) asyncOut() io.Writer {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.async != nil {
		return rt.async
	}
	return rt.stdout()
}

func (rt *Runtime) asyncErr() io.Writer {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.async != nil {
		return rt.async
	}
	return rt.stderr()
}

// Running returns the jobs still running.
func (rt *Runtime) Running() []*Job {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var running []*Job
	for _, j := range rt.jobs {
		if !j.ended() {
			running = append(running, j)
		}
	}
	return running
}

func (j *Job) ended() bool {
	select {
	case <-j.done:
		return true
	default:
		return false
	}
}

// Name returns what the job's lines are prefixed with.
func (j *Job) Name() string { return j.name }

// Pid returns the job's pid in udplab's PID namespace (0 when unknown).
func (j *Job) Pid() int { return j.pid }

// Done is closed when the job has ended and its lines are all printed.
func (j *Job) Done() <-chan struct{} { return j.done }

// String is the job as jobs() and tostring show it.
func (j *Job) String() string {
	where := ""
	if j.host != "" {
		where = " on " + j.host
	}
	state := "running"
	if j.ended() {
		state = "ended, " + describeStatus(j.status)
	}
	return fmt.Sprintf("[%d] %s%s (pid %d): %s", j.id, j.name, where, j.pid, state)
}

// Stop ends the job as Ctrl-C in its own terminal would: SIGINT (the pinned server then prints
// its count), then SIGKILL if it has not ended stopGrace later. It returns its exit code.
func (j *Job) Stop() int {
	if !j.ended() {
		j.signal(syscall.SIGINT)
		select {
		case <-j.done:
		case <-time.After(stopGrace):
			j.signal(syscall.SIGKILL)
			<-j.done
		}
	}
	return exitCode(j.status)
}

// Kill ends the job at once (SIGKILL), for udplab's own end.
func (j *Job) Kill() {
	if !j.ended() {
		j.signal(syscall.SIGKILL)
	}
}

func (j *Job) closeStdin() {
	j.stdinMu.Lock()
	defer j.stdinMu.Unlock()
	if j.stdin != nil {
		j.stdin.Close()
		j.stdin = nil
	}
}

// Sockets describes the UDP sockets the job holds, from /proc.
func (j *Job) Sockets() []string {
	if j.pid == 0 || j.ended() {
		return nil
	}
	return procSockets(j.pid)
}

// stopJobs kills the jobs still running, at the end.
func (rt *Runtime) stopJobs() {
	for _, j := range rt.Running() {
		j.Kill()
	}
}

// pushJob pushes the Lua value of j.
func (rt *Runtime) pushJob(L *lua.LState, j *Job) {
	ud := L.NewUserData()
	ud.Value = j
	ud.Metatable = rt.jobMT
	L.Push(ud)
}

// PushJob pushes the Lua value of j, a job StartJob made, as bg returns it.
func (rt *Runtime) PushJob(L *lua.LState, j *Job) { rt.pushJob(L, j) }

// checkJob returns the job at argument n.
func (a args) job(n int) *Job {
	if ud, ok := a.L.Get(n).(*lua.LUserData); ok {
		if j, ok := ud.Value.(*Job); ok {
			return j
		}
	}
	a.typeError(n, "job")
	return nil
}

// installJobs makes the jobs' metatable: tostring, and the methods write, wait and stop.
func (rt *Runtime) installJobs(L *lua.LState) {
	rt.jobMT = L.NewTypeMetatable("job")
	methods := L.CreateTable(0, 3)
	for _, b := range []*binding{&jobWriteBinding, &jobWaitBinding, &stopBinding} {
		methods.RawSetString(strings.TrimPrefix(b.name, "job:"), L.NewFunction(rt.guard(b)))
	}
	rt.jobMT.RawSetString("__index", methods)
	rt.jobMT.RawSetString("__tostring", L.NewFunction(rt.guard(&binding{name: "tostring", fn: func(rt *Runtime, a args) int {
		a.L.Push(lua.LString(a.job(1).String()))
		return 1
	}})))
}

var jobsBinding = binding{name: "jobs", fn: (*Runtime).jobsCall, help: helpEntry{
	"jobs()", "list the jobs (net.b:spawn{...}; bg(\"udpconnectserver\") at the console), with the sockets of those still running",
	"nothing", ""}}

// jobsCall is jobs(): one line per job, with the sockets of those still running.
func (rt *Runtime) jobsCall(a args) int {
	rt.mu.Lock()
	list := append([]*Job(nil), rt.jobs...)
	rt.mu.Unlock()
	w := rt.stdout()
	if len(list) == 0 {
		fmt.Fprintln(w, `no jobs (net.b:spawn{"udplab", "udpconnectserver"} starts one; bg("udpconnectserver") at the console)`)
	}
	for _, j := range list {
		fmt.Fprintln(w, j.String())
		for _, line := range j.Sockets() {
			fmt.Fprintln(w, "    "+line)
		}
	}
	return 0
}

var stopBinding = binding{name: "stop", fn: (*Runtime).stopCall, help: helpEntry{
	"stop(job)", "end a job as Ctrl-C would: SIGINT, then SIGKILL 2 s later; job:stop() too",
	"its exit status (128 + the signal's number when a signal ended it)", ""}}

// stopCall is stop(job).
func (rt *Runtime) stopCall(a args) int {
	a.L.Push(intValue(a.job(1).Stop()))
	return 1
}

var jobWriteBinding = binding{name: "job:write", fn: (*Runtime).jobWriteCall, help: helpEntry{
	"job:write(data)", "feed data to the job's standard input", "the bytes written; on failure nil, message, errno",
	"EPIPE (32)  its input is closed (it ended, or wait closed it)"}}

// jobWriteCall is job:write(data).
func (rt *Runtime) jobWriteCall(a args) int {
	j, data := a.job(1), a.string(2)
	j.stdinMu.Lock()
	defer j.stdinMu.Unlock()
	if j.stdin == nil {
		return pushFailure(a.L, unix.EPIPE)
	}
	n, err := j.stdin.Write(bytesOf(data))
	if err != nil {
		return pushFailure(a.L, err)
	}
	a.L.Push(intValue(n))
	return 1
}

var jobWaitBinding = binding{name: "job:wait", fn: (*Runtime).jobWaitCall, help: helpEntry{
	"job:wait([timeout])", "close the job's input and wait for it to end, at most timeout seconds",
	"as exec: status, stdout, stderr, or nil, \"killed by signal N\", 128+N, stdout, stderr;\n" +
		"nil, message, errno when the timeout passed first",
	"EAGAIN (11)  the timeout passed first (the job runs on)"}}

// jobWaitCall is job:wait([timeout]).
func (rt *Runtime) jobWaitCall(a args) int {
	j := a.job(1)
	var timeout time.Duration
	if a.L.Get(2) != lua.LNil {
		timeout = a.seconds(2)
	}
	j.closeStdin()
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	err := rt.blocking(a.L, func(ctx context.Context) error {
		select {
		case <-j.done:
			return nil
		case <-deadline:
			return unix.EAGAIN
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		return pushFailure(a.L, err)
	}
	text := func(c *capture) lua.LValue {
		if c == nil {
			return lua.LString("")
		}
		return lua.LString(c.buf.String())
	}
	return pushStatus(a.L, j.status, text(j.out), text(j.errOut))
}

// procSockets describes the UDP sockets process pid holds, from /proc: "udp 0.0.0.0:43211" and,
// when connected, "-> 127.0.0.1:51234".
func procSockets(pid int) []string {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, table := range []string{"udp", "udp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			desc := "udp " + procAddr(f[1])
			if remote := procAddr(f[2]); !strings.HasSuffix(remote, ":0") {
				desc += " -> " + remote
			}
			out = append(out, desc)
		}
	}
	return out
}

// ProcSockets describes the UDP sockets process pid holds, as jobs() lists them.
func ProcSockets(pid int) []string { return procSockets(pid) }

// procAddr reads an address of /proc/net/udp ("0100007F:A8CB", the IP in the kernel's byte
// order) as "127.0.0.1:43211".
func procAddr(hex string) string {
	ipHex, portHex, ok := strings.Cut(hex, ":")
	if !ok {
		return hex
	}
	port, _ := strconv.ParseUint(portHex, 16, 16)
	var ip []byte
	for i := 0; i+8 <= len(ipHex); i += 8 {
		word, _ := strconv.ParseUint(ipHex[i:i+8], 16, 32)
		ip = append(ip, byte(word), byte(word>>8), byte(word>>16), byte(word>>24))
	}
	if len(ip) == 16 {
		return fmt.Sprintf("[%s]:%d", netip.AddrFrom16([16]byte(ip)), port)
	}
	if len(ip) != 4 {
		return hex
	}
	return fmt.Sprintf("%d.%d.%d.%d:%d", ip[0], ip[1], ip[2], ip[3], port)
}

// WaitForSockets waits, at most bound, until the job has a socket bound to a port, or ended: a
// client started next then finds the server there.
func (j *Job) WaitForSockets(bound time.Duration) {
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if j.ended() {
			return
		}
		for _, line := range j.Sockets() {
			if !strings.HasSuffix(strings.Fields(line)[1], ":0") {
				return
			}
		}
	}
}
