//go:build linux

package sock

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Sockets in other network namespaces, for udplab's lab: its helper process opens a socket
// inside a host's namespace (OpenIn) and hands the descriptor to udplab over a FDChannel; udplab
// makes a Conn of it (Adopt). A socket keeps its namespace for life, so every call works on it
// as on any other.

// OpenIn opens a socket of family, sotype and protocol inside the network namespace ns (a
// descriptor of /proc/PID/ns/net) and returns its descriptor, non-blocking and close-on-exec,
// owned by the caller.
func OpenIn(ns int, family, sotype, protocol int) (int, error) {
	var fd int
	err := InNamespace(ns, func() (err error) {
		fd, err = unix.Socket(family, sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, protocol)
		return os.NewSyscallError("socket", err)
	})
	return fd, err
}

// InNamespace runs fn on a thread switched into the network namespace ns, and switches back. A
// thread that cannot switch back is left locked, so that the runtime ends it rather than reuse
// it in the wrong namespace.
func InNamespace(ns int, fn func() error) error {
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer home.Close()
	if err := unix.Setns(ns, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return os.NewSyscallError("setns", err)
	}
	ferr := fn()
	if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
		return errors.Join(ferr, os.NewSyscallError("setns", err)) // the thread stays locked, and dies
	}
	runtime.UnlockOSThread()
	return ferr
}

// Adopt makes a Conn of fd, a socket of family, sotype and protocol (as they were asked for) that
// it then owns, one received from a FDChannel, and traces its opening as a socket call, with
// host naming where it lives.
func Adopt(fd int, host string, family, sotype, protocol int, cfg *Config) *Conn {
	var t *Tracer
	if cfg != nil {
		t = cfg.Tracer
	}
	if t.On() {
		t.traceSocketIn(family, sotype, protocol, fd, host)
	}
	return newConnIn(fd, family, sotype, protocol, host, t)
}

// Host returns the name of the lab host the socket lives in, or "" for this machine's own.
func (c *Conn) Host() string { return c.host }

// CloseFD closes a descriptor received from, or sent over, a FDChannel that no Conn owns.
func CloseFD(fd int) error {
	return os.NewSyscallError("close", unix.Close(fd))
}

// FDChannel is one end of a connected AF_UNIX SOCK_SEQPACKET pair: messages keep their
// boundaries, and each may carry up to MaxFDs file descriptors (SCM_RIGHTS).
type FDChannel struct {
	file *os.File
}

// MaxFDs is the most descriptors one message on a FDChannel carries.
const MaxFDs = 8

// NewFDChannelPair returns the two ends of a new channel.
func NewFDChannelPair() (*FDChannel, *FDChannel, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return &FDChannel{os.NewFile(uintptr(fds[0]), "fdchannel")}, &FDChannel{os.NewFile(uintptr(fds[1]), "fdchannel")}, nil
}

// FDChannelFromFile makes a channel of f, an end inherited from the parent process.
func FDChannelFromFile(f *os.File) *FDChannel { return &FDChannel{f} }

// File returns the channel's file, to hand to a child process.
func (ch *FDChannel) File() *os.File { return ch.file }

// Close closes the channel.
func (ch *FDChannel) Close() error { return ch.file.Close() }

// maxMessage bounds one message on a channel.
const maxMessage = 1 << 16

// Send sends msg, with the descriptors fds (at most MaxFDs), which stay the caller's.
func (ch *FDChannel) Send(msg []byte, fds ...int) error {
	if len(fds) > MaxFDs {
		return os.NewSyscallError("sendmsg", unix.EINVAL)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	rc, err := ch.file.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(s uintptr) {
		serr = ignoringEINTR(func() error { return unix.Sendmsg(int(s), msg, oob, nil, 0) })
	})
	if err != nil {
		return err
	}
	return os.NewSyscallError("sendmsg", serr)
}

// Recv receives one message, and the descriptors it carries, which the caller then owns. It
// blocks until one comes; at the other end's close it fails with io.EOF's equivalent, an empty
// message and ECONNRESET. When the message carried descriptors that this process has no room
// for, it fails with EMFILE (the kernel closed them, and the message is consumed).
func (ch *FDChannel) Recv() ([]byte, []int, error) {
	buf := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(4*MaxFDs))
	rc, err := ch.file.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	var n, oobn, flags int
	var rerr error
	err = rc.Read(func(s uintptr) bool {
		rerr = ignoringEINTR(func() (err error) {
			n, oobn, flags, _, err = unix.Recvmsg(int(s), buf, oob, unix.MSG_CMSG_CLOEXEC)
			return err
		})
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, nil, os.NewSyscallError("recvmsg", err)
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil {
			for i := range msgs {
				got, err := unix.ParseUnixRights(&msgs[i])
				if err == nil {
					fds = append(fds, got...)
				}
			}
		}
		if len(fds) == 0 {
			return nil, nil, fmt.Errorf("recvmsg: unexpected control message (%d bytes)", oobn)
		}
	}
	if flags&unix.MSG_CTRUNC != 0 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, nil, os.NewSyscallError("recvmsg", unix.EMFILE)
	}
	if n == 0 && len(fds) == 0 {
		return nil, nil, os.NewSyscallError("recvmsg", unix.ECONNRESET)
	}
	return buf[:n], fds, nil
}
