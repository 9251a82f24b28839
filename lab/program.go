package lab

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// Programs in a lab's hosts. udplab may not enter a host's namespace; the lab's processes may.
// The helper starts, on the first program, the lab's init: udplab once more, in a PID namespace
// of its own, whose first process it is. The init starts each program in its host's network
// namespace (it sees the host's interfaces only) and in the lab's user namespace (it acts on
// files as the user who started udplab, and is root inside the host, as the lab's sockets are).
// The init dies with the helper (PR_SET_PDEATHSIG), and when the first process of a PID
// namespace ends the kernel kills every other process in it: the programs, and whatever they
// started, whatever ended the lab. The helper itself is not that init because the netlink
// libraries name the current thread's namespace by its PID, which a PID namespace changes.
//
// The init is that namespace's reaper: it reaps every process that ends there, and writes each
// program's status to a pipe udplab made for it, which udplab reads to wait.

// programs is the init's table of the programs it started.
type programs struct {
	mu       sync.Mutex
	status   map[int]int             // pid → the write end of its status pipe
	early    map[int]unix.WaitStatus // reaped while start had not yet registered them
	starting int                     // starts under way
	kick     chan struct{}           // a child was started: the reaper has one to wait for
}

// startReaper makes the init's table of programs and starts the reaper, which reaps every
// child of the init (it is PID 1 of the lab's PID namespace: orphans come to it too).
func startReaper() *programs {
	p := &programs{status: map[int]int{}, early: map[int]unix.WaitStatus{}, kick: make(chan struct{}, 1)}
	go p.reap()
	return p
}

func (p *programs) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil { // ECHILD: no child to wait for until the next start
			<-p.kick
			continue
		}
		p.mu.Lock()
		if fd, ok := p.status[pid]; ok {
			delete(p.status, pid)
			tell(fd, ws)
		} else if p.starting > 0 {
			p.early[pid] = ws // perhaps the child that start has just made
		}
		p.mu.Unlock()
	}
}

// tell writes ws to the status pipe fd and closes it.
func tell(fd int, ws unix.WaitStatus) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(ws))
	f := os.NewFile(uintptr(fd), "status")
	f.Write(b[:])
	f.Close()
}

// start starts prog in the network namespace ns, with in's descriptors as its standard input,
// output and error, and in[3] as the status pipe the reaper writes its end to. It returns the
// program's pid (in the lab's PID namespace) and a pidfd of it.
func (p *programs) start(ns int, prog *Program, in []int) (int, int, error) {
	if len(in) != 4 {
		return 0, -1, fmt.Errorf("exec needs 4 descriptors, got %d", len(in))
	}
	status, err := unix.FcntlInt(uintptr(in[3]), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return 0, -1, os.NewSyscallError("fcntl", err)
	}
	p.mu.Lock()
	p.starting++
	p.mu.Unlock()
	var pid int
	pidfd := -1
	err = sock.InNamespace(ns, func() error {
		var err error
		pid, err = syscall.ForkExec(prog.Path, prog.Argv, &syscall.ProcAttr{
			Dir:   prog.Dir,
			Env:   prog.Env,
			Files: []uintptr{uintptr(in[0]), uintptr(in[1]), uintptr(in[2])},
			Sys: &syscall.SysProcAttr{
				Setpgid:   true, // a group of its own: a signal reaches its children too
				Pdeathsig: syscall.SIGKILL,
				PidFD:     &pidfd,
			},
		})
		return err
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starting--
	defer func() {
		if p.starting == 0 {
			clear(p.early)
		}
	}()
	if err != nil {
		sock.CloseFD(status)
		return 0, -1, err
	}
	if ws, ok := p.early[pid]; ok {
		delete(p.early, pid)
		tell(status, ws)
	} else {
		p.status[pid] = status
	}
	select {
	case p.kick <- struct{}{}:
	default:
	}
	return pid, pidfd, nil
}

// signal sends sig to the process group of the program pid started.
func (p *programs) signal(pid, sig int) error {
	if pid <= 1 {
		return unix.EINVAL
	}
	return os.NewSyscallError("kill", unix.Kill(-pid, unix.Signal(sig)))
}

// initEnv marks the process the helper starts as the lab's init.
const initEnv = "UDPLAB_LAB_INIT"

// initMain is the lab's init: it starts programs in hosts, signals them and reaps, as the helper
// asks over the channel on descriptor 3.
func initMain() int {
	unix.CloseOnExec(3)
	ch := sock.FDChannelFromFile(os.NewFile(3, "init"))
	progs := startReaper()
	for {
		msg, in, err := ch.Recv()
		if err != nil {
			return 0 // the helper ended: so does the namespace
		}
		var req request
		var rep reply
		var out []int
		if err = json.Unmarshal(msg, &req); err == nil {
			switch {
			case req.Op == "exec" && len(in) == 5:
				var pidfd int
				rep.Pid, pidfd, err = progs.start(in[0], &req.Program, in[1:])
				if err == nil {
					out = []int{pidfd}
				}
			case req.Op == "signal":
				err = progs.signal(req.Pid, req.Signal)
			default:
				err = fmt.Errorf("the lab's init cannot %q", req.Op)
			}
		}
		for _, fd := range in {
			sock.CloseFD(fd)
		}
		if err != nil {
			rep = reply{Err: err.Error(), Errno: int(sock.ErrnoOf(err))}
		}
		answer, _ := json.Marshal(rep)
		if serr := ch.Send(answer, out...); serr != nil {
			return 1
		}
		for _, fd := range out {
			sock.CloseFD(fd)
		}
	}
}

// initLink is the helper's side of the lab's init, which it starts on the first program.
type initLink struct {
	ch  *sock.FDChannel
	cmd *exec.Cmd
}

// ask sends req to the init, with fds, and returns its reply and the descriptors that came with
// it, started first when it is not running.
func (l *initLink) ask(req *request, fds ...int) (reply, []int, error) {
	var rep reply
	if l.ch == nil {
		if err := l.start(); err != nil {
			return rep, nil, err
		}
	}
	msg, _ := json.Marshal(req)
	if err := l.ch.Send(msg, fds...); err != nil {
		return rep, nil, fmt.Errorf("the lab's init is gone: %w", err)
	}
	answer, got, err := l.ch.Recv()
	if err != nil {
		return rep, nil, fmt.Errorf("the lab's init is gone: %w", err)
	}
	if err := json.Unmarshal(answer, &rep); err != nil {
		return rep, nil, err
	}
	if rep.Err != "" {
		for _, fd := range got {
			sock.CloseFD(fd)
		}
		return rep, nil, &Error{Msg: rep.Err, Errno: unix.Errno(rep.Errno)}
	}
	return rep, got, nil
}

// start starts the init: this program again, in a new PID namespace, dying with the helper.
func (l *initLink) start() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	mine, theirs, err := sock.NewFDChannelPair()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{"udplab-lab-init"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, helperEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, initEnv+"=1")
	cmd.ExtraFiles = []*os.File{theirs.File()}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	theirs.Close()
	if err != nil {
		mine.Close()
		return fmt.Errorf("starting the lab's init: %w", err)
	}
	l.ch, l.cmd = mine, cmd
	return nil
}

// Process is a program running in a lab host, as udplab sees it.
type Process struct {
	n      *Network
	pid    int      // in the lab's PID namespace: what the helper knows it by
	Pid    int      // in udplab's PID namespace, for /proc; 0 when it could not be learnt
	status *os.File // the read end of its status pipe

	mu    sync.Mutex
	ended bool
	ws    syscall.WaitStatus
	why   string // how it ended, when the lab ended it
}

// Exec starts prog in host with stdin, stdout and stderr (which stay the caller's) as its
// standard files. prog.Path must be absolute (exec.LookPath finds it).
func (n *Network) Exec(host string, prog Program, stdin, stdout, stderr *os.File) (*Process, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	rep, fds, err := n.exchange(&request{Op: "exec", Host: host, Program: prog},
		int(stdin.Fd()), int(stdout.Fd()), int(stderr.Fd()), int(w.Fd()))
	if err != nil {
		r.Close()
		return nil, err
	}
	p := &Process{n: n, pid: rep.Pid, status: r}
	for _, fd := range fds {
		p.Pid = pidOfPidfd(fd)
		sock.CloseFD(fd)
	}
	return p, nil
}

// pidOfPidfd reads the pid a pidfd refers to, in this process's PID namespace.
func pidOfPidfd(fd int) int {
	b, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			pid, _ := strconv.Atoi(strings.TrimSpace(v))
			return pid
		}
	}
	return 0
}

// Wait waits until the program ends, or ctx is done, and returns its wait status. A program
// the lab took down with it (the lab closed, its helper died) was killed by SIGKILL.
func (p *Process) Wait(ctx context.Context) (syscall.WaitStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return p.ws, nil
	}
	stop := context.AfterFunc(ctx, func() { p.status.SetReadDeadline(time.Now()) })
	var b [4]byte
	_, err := io.ReadFull(p.status, b[:])
	stop()
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
		p.status.SetReadDeadline(time.Time{})
		return 0, ctx.Err()
	}
	p.ended = true
	p.status.Close()
	if err != nil { // the helper, and its namespace's processes with it, are gone
		p.ws = syscall.WaitStatus(syscall.SIGKILL)
		p.why = "the lab ended"
		return p.ws, nil
	}
	p.ws = syscall.WaitStatus(binary.LittleEndian.Uint32(b[:]))
	return p.ws, nil
}

// Signal sends sig to the program's process group (it and the children it did not move out of
// it), as a terminal's Ctrl-C does.
func (p *Process) Signal(sig syscall.Signal) error {
	_, _, err := p.n.exchange(&request{Op: "signal", Pid: p.pid, Signal: int(sig)})
	return err
}
