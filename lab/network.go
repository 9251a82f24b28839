package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/udplab/udplab/sock"
)

// Network is a lab that is up: udplab's side of it, talking to the helper that holds it.
type Network struct {
	Spec *Spec

	mu     sync.Mutex
	ch     *sock.FDChannel
	helper *exec.Cmd
	closed bool

	exited chan struct{} // closed when the helper has ended; then ended says how
	ended  string
}

// Error is a failure the helper reported, with its errno when the kernel gave one.
type Error struct {
	Msg   string
	Errno unix.Errno
}

// Error returns the helper's words.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the errno, so that sock.ErrnoOf finds it.
func (e *Error) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// Start builds the lab of spec: it starts the helper (udplab itself, in a new user and network
// namespace, so that no privilege is needed), which makes the bridges, hosts and links.
func Start(spec *Spec) (*Network, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	mine, theirs, err := sock.NewFDChannelPair()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Args = []string{"udplab-lab"}
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.ExtraFiles = []*os.File{theirs.File()}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET,
		UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		GidMappingsEnableSetgroups: false,
		Pdeathsig:                  syscall.SIGKILL, // the lab dies with udplab, whatever ends it
		// Its own session: a Ctrl-C at udplab's terminal goes to udplab's process group, not to
		// the lab's, which only udplab ends.
		Setsid: true,
	}
	err = cmd.Start()
	// The helper's end is the helper's alone: with no copy here, its death ends the channel,
	// and a call waiting for its answer learns it at once.
	theirs.Close()
	if err != nil {
		mine.Close()
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EINVAL) {
			return nil, &Error{Msg: "network{} needs user namespaces, which this system does not allow here (" + err.Error() +
				"): run udplab as root, or allow them (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)", Errno: sock.ErrnoOf(err)}
		}
		return nil, err
	}
	n := &Network{Spec: spec, ch: mine, helper: cmd, exited: make(chan struct{})}
	go n.reap()
	if _, err := n.ask(&request{Op: "build", Spec: spec}); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// ask sends req to the helper and waits for its answer, with the descriptor it carries, or -1.
func (n *Network) ask(req *request) (int, error) {
	_, fds, err := n.exchange(req)
	if err != nil {
		return -1, err
	}
	for _, fd := range fds[min(1, len(fds)):] {
		sock.CloseFD(fd)
	}
	if len(fds) == 0 {
		return -1, nil
	}
	return fds[0], nil
}

// exchange sends req to the helper, with the descriptors fds (which stay the caller's), and
// waits for its answer and the descriptors that come with it.
func (n *Network) exchange(req *request, fds ...int) (reply, []int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var rep reply
	if n.closed {
		return rep, nil, &Error{Msg: "the network is closed", Errno: unix.EBADF}
	}
	msg, err := json.Marshal(req)
	if err != nil {
		return rep, nil, err
	}
	if err := n.ch.Send(msg, fds...); err != nil {
		return rep, nil, n.gone(err)
	}
	answer, got, err := n.ch.Recv()
	if errors.Is(err, unix.EMFILE) {
		// The answer carried a descriptor that this process had no room for: the kernel closed
		// it and said so (MSG_CTRUNC). The helper is fine.
		return rep, nil, &Error{Msg: sock.Strerror(unix.EMFILE), Errno: unix.EMFILE}
	}
	if err != nil {
		return rep, nil, n.gone(err)
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

// helperGrace is how long a failed exchange with the helper waits for the helper's end to be
// known, so that the error can say how it ended.
const helperGrace = time.Second

// reap waits for the helper to end and records how.
func (n *Network) reap() {
	err := n.helper.Wait()
	n.ended = describeExit(n.helper.ProcessState, err)
	close(n.exited)
}

// gone is the error of an exchange that failed because the channel to the helper broke: the
// helper died (it says how), or the channel failed for a reason of its own.
func (n *Network) gone(err error) error {
	select {
	case <-n.exited:
	case <-time.After(helperGrace):
		return &Error{Msg: "the lab's helper does not answer (" + err.Error() + ")", Errno: unix.EPIPE}
	}
	return &Error{Msg: "the lab's helper died (" + n.ended + ")", Errno: unix.EPIPE}
}

// describeExit says how a process ended: "killed by signal 9", "exit status 1".
func describeExit(ps *os.ProcessState, err error) string {
	if ps == nil {
		return err.Error()
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %d", ws.Signal())
	}
	return fmt.Sprintf("exit status %d", ps.ExitCode())
}

// Socket opens a socket inside host and returns its descriptor, owned by the caller.
func (n *Network) Socket(host string, family, sotype, protocol int) (int, error) {
	return n.ask(&request{Op: "socket", Host: host, Family: family, Type: sotype, Proto: protocol})
}

// Captures returns, for each LAN, a capture of its bridge (every frame between its hosts), for
// the wire view.
func (n *Network) Captures() ([]*sock.Capture, error) {
	names := map[netip.Addr]string{}
	for _, h := range n.Spec.Hosts {
		for k := range h.LANs {
			names[h.Addr4[k]], names[h.Addr6[k]] = h.Name, h.Name
		}
	}
	var captures []*sock.Capture
	for j := range n.Spec.LANs {
		fd, err := n.ask(&request{Op: "capture"})
		if err != nil {
			return captures, err
		}
		c, err := sock.CaptureFD(fd, bridgeIf(j), n.Spec.LANs[j].Name, names)
		if err != nil {
			return captures, err
		}
		captures = append(captures, c)
	}
	return captures, nil
}

// Down unplugs host from its LANs (ARP and NDP get no answer); Up plugs it back.
func (n *Network) Down(host string) error { return n.do(&request{Op: "down", Host: host}) }

// Up plugs host back into its LANs.
func (n *Network) Up(host string) error { return n.do(&request{Op: "up", Host: host}) }

// Firewall makes host drop ("drop") or reject ("reject") the UDP datagrams that come to it;
// "" takes the firewall away.
func (n *Network) Firewall(host, mode string) error {
	return n.do(&request{Op: "firewall", Host: host, Mode: mode})
}

// NAT makes router host masquerade what leaves it on LAN lan; "" stops it.
func (n *Network) NAT(host, lan string) error { return n.do(&request{Op: "nat", Host: host, LAN: lan}) }

// Impair sets what host's links do to its traffic.
func (n *Network) Impair(host string, imp Impairment) error {
	return n.do(&request{Op: "impair", Host: host, Impairment: imp})
}

func (n *Network) do(req *request) error {
	_, err := n.ask(req)
	return err
}

// Close takes the lab down: the helper ends, and its namespaces, bridges and links with it.
// Sockets opened in hosts stay open, on hosts with no link left. Close is safe to call again.
func (n *Network) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	n.ch.Close()
	n.helper.Process.Kill()
	<-n.exited
	return nil
}
